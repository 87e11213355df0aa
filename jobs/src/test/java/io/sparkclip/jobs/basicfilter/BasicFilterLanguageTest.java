package io.sparkclip.jobs.basicfilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.github.pemistahl.lingua.api.IsoCode639_1;
import com.github.pemistahl.lingua.api.Language;
import com.github.pemistahl.lingua.api.LanguageDetector;
import com.github.pemistahl.lingua.api.LanguageDetectorBuilder;
import io.sparkclip.jobs.LocalSpark;
import io.sparkclip.jobs.stage.CurationOutput;
import io.sparkclip.jobs.stage.StageConf;
import io.sparkclip.schemas.Columns;
import io.sparkclip.schemas.RejectReason;
import io.sparkclip.schemas.Uid;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The language check through the stage, with its default 12 candidate languages.
 *
 * <p>The captions were written for this test: 15 short alt-text-like descriptions of everyday
 * photos (product shots, scenes, food), written in English and then in German, French, Spanish,
 * Italian, Portuguese, Dutch and Polish, the same scenes in each language, 120 Latin-script
 * captions of 4 to 11 words; and a few in Russian, Japanese, Chinese, Arabic and Greek, scripts
 * none of the default candidates is written in. No caption was chosen or reworded after seeing
 * Lingua's answer.
 */
class BasicFilterLanguageTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String input;

  static final Map<String, List<String>> CAPTIONS = new LinkedHashMap<>();

  static {
    CAPTIONS.put(
        "en",
        List.of(
            "A red apple on a wooden kitchen table",
            "Young woman walking her dog in the park",
            "Old stone bridge over a river in autumn",
            "Black leather handbag with a golden zipper",
            "Children playing football on the beach at sunset",
            "Modern living room with a grey sofa and large windows",
            "Fresh vegetables at the farmers market",
            "Snow-covered mountains under a clear blue sky",
            "Man repairing a bicycle in his garage",
            "Cup of hot coffee next to an open book",
            "White wedding dress with long lace sleeves",
            "Vintage car parked in front of a small café",
            "Cat sleeping on a windowsill in the sun",
            "Aerial view of the city at night",
            "Handmade wooden toys for toddlers"));
    CAPTIONS.put(
        "de",
        List.of(
            "Ein roter Apfel auf einem Küchentisch aus Holz",
            "Junge Frau geht mit ihrem Hund im Park spazieren",
            "Alte Steinbrücke über einen Fluss im Herbst",
            "Schwarze Lederhandtasche mit goldenem Reißverschluss",
            "Kinder spielen bei Sonnenuntergang Fußball am Strand",
            "Modernes Wohnzimmer mit grauem Sofa und großen Fenstern",
            "Frisches Gemüse auf dem Wochenmarkt",
            "Schneebedeckte Berge unter einem klaren blauen Himmel",
            "Mann repariert ein Fahrrad in seiner Garage",
            "Eine Tasse heißer Kaffee neben einem offenen Buch",
            "Weißes Brautkleid mit langen Spitzenärmeln",
            "Oldtimer vor einem kleinen Café geparkt",
            "Katze schläft auf der Fensterbank in der Sonne",
            "Luftaufnahme der Stadt bei Nacht",
            "Handgemachtes Holzspielzeug für Kleinkinder"));
    CAPTIONS.put(
        "fr",
        List.of(
            "Une pomme rouge sur une table de cuisine en bois",
            "Jeune femme promenant son chien dans le parc",
            "Vieux pont de pierre sur une rivière en automne",
            "Sac à main en cuir noir avec une fermeture éclair dorée",
            "Enfants jouant au football sur la plage au coucher du soleil",
            "Salon moderne avec un canapé gris et de grandes fenêtres",
            "Légumes frais au marché des producteurs",
            "Montagnes enneigées sous un ciel bleu clair",
            "Homme réparant un vélo dans son garage",
            "Tasse de café chaud à côté d'un livre ouvert",
            "Robe de mariée blanche avec de longues manches en dentelle",
            "Voiture ancienne garée devant un petit café",
            "Chat dormant au soleil sur le rebord de la fenêtre",
            "Vue aérienne de la ville la nuit",
            "Jouets en bois faits main pour les tout-petits"));
    CAPTIONS.put(
        "es",
        List.of(
            "Una manzana roja sobre una mesa de cocina de madera",
            "Mujer joven paseando a su perro en el parque",
            "Viejo puente de piedra sobre un río en otoño",
            "Bolso de cuero negro con cremallera dorada",
            "Niños jugando al fútbol en la playa al atardecer",
            "Sala de estar moderna con un sofá gris y ventanas grandes",
            "Verduras frescas en el mercado de agricultores",
            "Montañas nevadas bajo un cielo azul despejado",
            "Hombre reparando una bicicleta en su garaje",
            "Taza de café caliente junto a un libro abierto",
            "Vestido de novia blanco con mangas largas de encaje",
            "Coche antiguo aparcado frente a una pequeña cafetería",
            "Gato durmiendo al sol en el alféizar de la ventana",
            "Vista aérea de la ciudad de noche",
            "Juguetes de madera hechos a mano para niños pequeños"));
    CAPTIONS.put(
        "it",
        List.of(
            "Una mela rossa su un tavolo da cucina in legno",
            "Giovane donna che porta a spasso il cane nel parco",
            "Vecchio ponte di pietra su un fiume in autunno",
            "Borsa in pelle nera con cerniera dorata",
            "Bambini che giocano a calcio sulla spiaggia al tramonto",
            "Soggiorno moderno con divano grigio e grandi finestre",
            "Verdure fresche al mercato contadino",
            "Montagne innevate sotto un cielo azzurro e limpido",
            "Uomo che ripara una bicicletta nel suo garage",
            "Tazza di caffè caldo accanto a un libro aperto",
            "Abito da sposa bianco con lunghe maniche di pizzo",
            "Auto d'epoca parcheggiata davanti a un piccolo bar",
            "Gatto che dorme al sole sul davanzale della finestra",
            "Vista aerea della città di notte",
            "Giocattoli di legno fatti a mano per bambini piccoli"));
    CAPTIONS.put(
        "pt",
        List.of(
            "Uma maçã vermelha sobre uma mesa de cozinha de madeira",
            "Jovem mulher passeando com o cachorro no parque",
            "Ponte de pedra antiga sobre um rio no outono",
            "Bolsa de couro preta com zíper dourado",
            "Crianças jogando futebol na praia ao pôr do sol",
            "Sala de estar moderna com sofá cinza e janelas grandes",
            "Legumes frescos na feira dos produtores",
            "Montanhas cobertas de neve sob um céu azul limpo",
            "Homem consertando uma bicicleta na garagem",
            "Xícara de café quente ao lado de um livro aberto",
            "Vestido de noiva branco com mangas longas de renda",
            "Carro antigo estacionado em frente a um pequeno café",
            "Gato dormindo ao sol no parapeito da janela",
            "Vista aérea da cidade à noite",
            "Brinquedos de madeira feitos à mão para crianças pequenas"));
    CAPTIONS.put(
        "nl",
        List.of(
            "Een rode appel op een houten keukentafel",
            "Jonge vrouw laat haar hond uit in het park",
            "Oude stenen brug over een rivier in de herfst",
            "Zwarte leren handtas met een gouden rits",
            "Kinderen voetballen op het strand bij zonsondergang",
            "Moderne woonkamer met een grijze bank en grote ramen",
            "Verse groenten op de boerenmarkt",
            "Besneeuwde bergen onder een heldere blauwe lucht",
            "Man repareert een fiets in zijn garage",
            "Kop hete koffie naast een opengeslagen boek",
            "Witte trouwjurk met lange kanten mouwen",
            "Oldtimer geparkeerd voor een klein café",
            "Kat slaapt in de zon op de vensterbank",
            "Luchtfoto van de stad bij nacht",
            "Handgemaakt houten speelgoed voor peuters"));
    CAPTIONS.put(
        "pl",
        List.of(
            "Czerwone jabłko na drewnianym stole kuchennym",
            "Młoda kobieta spaceruje z psem w parku",
            "Stary kamienny most nad rzeką jesienią",
            "Czarna skórzana torebka ze złotym zamkiem",
            "Dzieci grają w piłkę na plaży o zachodzie słońca",
            "Nowoczesny salon z szarą kanapą i dużymi oknami",
            "Świeże warzywa na targu rolniczym",
            "Ośnieżone góry pod czystym błękitnym niebem",
            "Mężczyzna naprawia rower w swoim garażu",
            "Filiżanka gorącej kawy obok otwartej książki",
            "Biała suknia ślubna z długimi koronkowymi rękawami",
            "Zabytkowy samochód zaparkowany przed małą kawiarnią",
            "Kot śpi na parapecie w słońcu",
            "Widok z lotu ptaka na miasto nocą",
            "Ręcznie robione drewniane zabawki dla maluchów"));
  }

  /** Scripts no default candidate is written in. */
  static final Map<String, String> OTHER_SCRIPTS =
      Map.of(
          "ru", "Кошка спит на подоконнике на солнце",
          "ja", "窓辺で日向ぼっこをする猫",
          "zh", "阳光下在窗台上睡觉的猫",
          "ar", "قطة نائمة على حافة النافذة في الشمس",
          "el", "Γάτα που κοιμάται στο περβάζι στον ήλιο");

  record Caption(String uid, String language, String text) {}

  static final List<Caption> ALL = new ArrayList<>();

  @BeforeAll
  static void start() {
    spark = LocalSpark.start("BasicFilterLanguageTest");
    List<Row> rows = new ArrayList<>();
    int i = 0;
    Map<String, List<String>> all = new LinkedHashMap<>(CAPTIONS);
    OTHER_SCRIPTS.forEach((l, c) -> all.put(l, List.of(c)));
    for (Map.Entry<String, List<String>> e : all.entrySet()) {
      for (String c : e.getValue()) {
        String url = "https://lang.example/" + i++;
        rows.add(RowFactory.create(url, c));
        ALL.add(new Caption(Uid.of(url, c), e.getKey(), c));
      }
    }
    StructType schema =
        new StructType()
            .add(Columns.URL, DataTypes.StringType, false /* nullable */)
            .add(Columns.CAPTION, DataTypes.StringType, true /* nullable */);
    input = tmp.resolve("captions").toString();
    spark.createDataFrame(rows, schema).repartition(2).write().parquet(input);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** Runs the stage with the caption bounds off, so every caption reaches the language check. */
  static String run(String name, Map<String, Object> keys) {
    String out = tmp.resolve(name).toString();
    StageConf c =
        StageConf.io(input, out)
            .with(BasicFilterJob.Options.MIN_CAPTION_WORDS, 0)
            .with(BasicFilterJob.Options.MIN_CAPTION_CHARS, 0);
    for (Map.Entry<String, Object> e : keys.entrySet()) {
      c = c.with(e.getKey(), e.getValue());
    }
    BasicFilterStage stage = new BasicFilterStage();
    stage.run(spark, stage.options(c));
    return out;
  }

  /** uid → the kept row's (language, confidence), or the reject's reason. */
  record Outcome(Map<String, Row> kept, Map<String, Row> rejected) {}

  static Outcome outcome(String out) {
    Map<String, Row> kept = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.data(out))
        .collectAsList()
        .forEach(r -> kept.put(r.getAs(Columns.UID), r));
    Map<String, Row> rejected = new HashMap<>();
    spark
        .read()
        .parquet(CurationOutput.rejects(out))
        .collectAsList()
        .forEach(r -> rejected.put(r.getAs(Columns.UID), r));
    return new Outcome(kept, rejected);
  }

  /** Lingua asked directly, outside the stage: (language or null, top minus runner-up). */
  record Lingua(String language, double confidence) {}

  static Lingua lingua(LanguageDetector d, String text) {
    List<Map.Entry<Language, Double>> e =
        new ArrayList<>(d.computeLanguageConfidenceValues(text).entrySet());
    if (e.isEmpty()) {
      return new Lingua(null, 0);
    }
    String top = e.get(0).getKey().getIsoCode639_1().name().toLowerCase(Locale.ROOT);
    if (e.size() == 1) {
      return new Lingua(top, 1);
    }
    double d0 = e.get(0).getValue() - e.get(1).getValue();
    return d0 > 0 ? new Lingua(top, d0) : new Lingua(null, 0);
  }

  static LanguageDetector defaultCandidates() {
    return LanguageDetectorBuilder.fromIsoCodes639_1(
            BasicFilterJob.Options.LANGUAGE_CANDIDATES_DEFAULT.stream()
                .map(c -> IsoCode639_1.valueOf(c.toUpperCase(Locale.ROOT)))
                .toArray(IsoCode639_1[]::new))
        .build();
  }

  @Test
  void identifiesTheLanguageOfAtLeast95PercentOfTheCaptions() {
    List<String> kept = new ArrayList<>(CAPTIONS.keySet());
    Outcome o = outcome(run("accuracy", Map.of(BasicFilterJob.Options.LANGUAGES, kept)));
    int correct = 0;
    int total = 0;
    Map<String, String> wrong = new TreeMap<>();
    for (Caption c : ALL) {
      if (!CAPTIONS.containsKey(c.language())) {
        continue;
      }
      total++;
      Row r = o.kept().get(c.uid());
      String got =
          r == null
              ? "rejected: " + o.rejected().get(c.uid()).getAs(Columns.DETAIL)
              : r.getAs(Columns.LANGUAGE);
      if (c.language().equals(got)) {
        correct++;
      } else {
        wrong.put(c.text(), c.language() + " -> " + got);
      }
    }
    double accuracy = (double) correct / total;
    System.out.printf(
        Locale.ROOT,
        "language accuracy %d/%d = %.3f; wrong: %s%n",
        correct,
        total,
        accuracy,
        wrong);
    assertThat(total).as("Latin-script captions").isEqualTo(120);
    assertThat(accuracy).as("accuracy; misidentified: %s", wrong).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void anEnglishFilterKeepsWhatLinguaCallsEnglishAndNothingElse() {
    Outcome o = outcome(run("english", Map.of()));
    LanguageDetector lingua = defaultCandidates();
    int englishKept = 0;
    for (Caption c : ALL) {
      Lingua l = lingua(lingua, c.text());
      boolean en = "en".equals(l.language());
      assertThat(o.kept().containsKey(c.uid()))
          .as("%s (%s): kept iff Lingua says en, it says %s", c.text(), c.language(), l)
          .isEqualTo(en);
      if (en) {
        Row r = o.kept().get(c.uid());
        assertThat(r.<String>getAs(Columns.LANGUAGE)).as("language column").isEqualTo("en");
        assertThat(r.<Double>getAs(Columns.LANGUAGE_CONFIDENCE))
            .as("confidence column of %s", c.text())
            .isCloseTo(l.confidence(), within(1e-12));
        englishKept += c.language().equals("en") ? 1 : 0;
      } else {
        assertThat(o.rejected().get(c.uid()).<String>getAs(Columns.REASON))
            .as("%s: reason", c.text())
            .isEqualTo(RejectReason.CAPTION_LANGUAGE);
      }
      if (OTHER_SCRIPTS.containsKey(c.language())) {
        assertThat(o.rejected().get(c.uid()).<String>getAs(Columns.DETAIL))
            .as("%s: no candidate writes its script", c.text())
            .startsWith("unknown");
      }
    }
    assertThat(englishKept).as("English captions kept").isGreaterThanOrEqualTo(14);
  }

  @Test
  void aMinimumConfidenceRejectsTheUnclearEnglishCaptions() {
    LanguageDetector lingua = defaultCandidates();
    List<Double> english = new ArrayList<>();
    for (Caption c : ALL) {
      Lingua l = lingua(lingua, c.text());
      if ("en".equals(l.language())) {
        english.add(l.confidence());
      }
    }
    english.sort(null);
    // The median of the English confidences: half of them fall below it.
    double threshold = english.get(english.size() / 2);
    Outcome o =
        outcome(
            run("confidence", Map.of(BasicFilterJob.Options.MIN_LANGUAGE_CONFIDENCE, threshold)));
    Map<String, String> want = new TreeMap<>();
    Map<String, String> got = new TreeMap<>();
    for (Caption c : ALL) {
      Lingua l = lingua(lingua, c.text());
      want.put(
          c.text(),
          !"en".equals(l.language())
              ? RejectReason.CAPTION_LANGUAGE
              : l.confidence() < threshold ? RejectReason.LOW_LANGUAGE_CONFIDENCE : null);
      Row rejected = o.rejected().get(c.uid());
      got.put(c.text(), rejected == null ? null : rejected.getAs(Columns.REASON));
    }
    System.out.printf(Locale.ROOT, "English confidences %s; threshold %.4f%n", english, threshold);
    assertThat(got).as("reason per caption at min confidence %s", threshold).isEqualTo(want);
    assertThat(want.values())
        .as("some English captions fall below the threshold, some are kept")
        .contains(RejectReason.LOW_LANGUAGE_CONFIDENCE)
        .containsNull();
  }
}
