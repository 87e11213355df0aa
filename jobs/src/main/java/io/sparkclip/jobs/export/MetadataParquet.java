package io.sparkclip.jobs.export;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;

/**
 * One clip-retrieval {@code metadata_<i>.parquet}, written by the task that writes the part's
 * embeddings (Spark's writer cannot write one named file per part from inside a task), with
 * parquet-hadoop's example Group writer, through the part's {@link AtomicFile} stream so it is
 * hashed and renamed like the .npy files.
 */
final class MetadataParquet implements AutoCloseable {
  /** The Parquet type of a metadata column. */
  enum Kind {
    STRING,
    DOUBLE,
    FLOAT,
    INT,
    LONG,
    BOOLEAN;

    static Kind of(DataType t) {
      if (t instanceof StringType) {
        return STRING;
      }
      if (t instanceof DoubleType) {
        return DOUBLE;
      }
      if (t instanceof FloatType) {
        return FLOAT;
      }
      if (t instanceof IntegerType || t instanceof ShortType || t instanceof ByteType) {
        return INT;
      }
      if (t instanceof LongType) {
        return LONG;
      }
      if (t instanceof BooleanType) {
        return BOOLEAN;
      }
      throw new IllegalArgumentException("no metadata column type for " + t.simpleString());
    }
  }

  /** A metadata column: its name in the file and its type. */
  record Field(String name, Kind kind) implements Serializable {}

  private final List<Field> fields;
  private final SimpleGroupFactory groups;
  private final ParquetWriter<Group> writer;

  MetadataParquet(OutputStream out, List<Field> fields, Configuration conf) throws IOException {
    this.fields = fields;
    MessageType schema = schema(fields);
    this.groups = new SimpleGroupFactory(schema);
    this.writer =
        ExampleParquetWriter.builder(new StreamOutputFile(out))
            .withType(schema)
            .withConf(conf)
            .withCompressionCodec(CompressionCodecName.SNAPPY)
            .build();
  }

  static MessageType schema(List<Field> fields) {
    Types.MessageTypeBuilder b = Types.buildMessage();
    for (Field f : fields) {
      switch (f.kind()) {
        case STRING ->
            b.optional(PrimitiveTypeName.BINARY)
                .as(LogicalTypeAnnotation.stringType())
                .named(f.name());
        case DOUBLE -> b.optional(PrimitiveTypeName.DOUBLE).named(f.name());
        case FLOAT -> b.optional(PrimitiveTypeName.FLOAT).named(f.name());
        case INT -> b.optional(PrimitiveTypeName.INT32).named(f.name());
        case LONG -> b.optional(PrimitiveTypeName.INT64).named(f.name());
        case BOOLEAN -> b.optional(PrimitiveTypeName.BOOLEAN).named(f.name());
        default -> throw new IllegalStateException(f.kind().name());
      }
    }
    return b.named("metadata");
  }

  /** Appends one row: {@code values} in field order; null leaves the field unset. */
  void write(Object[] values) throws IOException {
    Group g = groups.newGroup();
    for (int i = 0; i < fields.size(); i++) {
      Object v = values[i];
      if (v == null) {
        continue;
      }
      String name = fields.get(i).name();
      switch (fields.get(i).kind()) {
        case STRING -> g.append(name, (String) v);
        case DOUBLE -> g.append(name, ((Number) v).doubleValue());
        case FLOAT -> g.append(name, ((Number) v).floatValue());
        case INT -> g.append(name, ((Number) v).intValue());
        case LONG -> g.append(name, ((Number) v).longValue());
        case BOOLEAN -> g.append(name, (Boolean) v);
        default -> throw new IllegalStateException(fields.get(i).kind().name());
      }
    }
    writer.write(g);
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }

  /** A Parquet output over a stream the caller owns (counted, hashed, renamed by AtomicFile). */
  private static final class StreamOutputFile implements OutputFile {
    private final OutputStream out;

    StreamOutputFile(OutputStream out) {
      this.out = out;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) {
      return new PositionOutputStream() {
        private long pos;

        @Override
        public long getPos() {
          return pos;
        }

        @Override
        public void write(int b) throws IOException {
          out.write(b);
          pos++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          pos += len;
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }

        @Override
        public void close() throws IOException {
          out.close();
        }
      };
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) {
      return create(blockSizeHint);
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return 0;
    }
  }
}
