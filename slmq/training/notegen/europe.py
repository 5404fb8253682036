"""Invented but plausible places of the hand-written European countries (see country.py for the patterns)."""

from slmq.training.notegen.country import Country

# fmt: off
UK = Country(
    "UK",
    ("United Kingdom", "UK", "U.K.", "England", "Great Britain", "GB"),
    (
        ("Northampton", "Northamptonshire", "NNd d@@"), ("Derby", "Derbyshire", "DEdd d@@"),
        ("Norwich", "Norfolk", "NRd d@@"), ("Ipswich", "Suffolk", "IPd d@@"), ("Exeter", "Devon", "EXd d@@"),
        ("Truro", "Cornwall", "TRd d@@"), ("Bristol", None, "BSd d@@"), ("Leeds", "West Yorkshire", "LSdd d@@"),
        ("Harrogate", "North Yorkshire", "HGd d@@"), ("Carlisle", "Cumbria", "CAd d@@"),
        ("Glasgow", None, "Gdd d@@"), ("Dundee", None, "DDd d@@"), ("Aberdeen", None, "ABdd d@@"),
        ("Inverness", None, "IVd d@@"), ("Cardiff", None, "CFdd d@@"), ("Swansea", None, "SAd d@@"),
        ("Belfast", None, "BTd d@@"), ("Reading", "Berkshire", "RGd d@@"), ("Guildford", "Surrey", "GUd d@@"),
        ("Maidstone", "Kent", "MEdd d@@"), ("Chelmsford", "Essex", "CMd d@@"),
        ("Shrewsbury", "Shropshire", "SYd d@@"), ("Lincoln", "Lincolnshire", "LNd d@@"),
        ("Kendal", "Cumbria", "LAd d@@"), ("Stockport", "Cheshire", "SKd d@@"),
        ("Salisbury", "Wiltshire", "SPd d@@"), ("Hereford", "Herefordshire", "HRd d@@"),
        ("Colchester", "Essex", "COd d@@"), ("London", None, "SEd d@@"), ("London", None, "Nd d@@"),
        ("Manchester", None, "Md d@@"), ("Sheffield", "South Yorkshire", "Sd d@@"),
    ),
    (
        "Mill Lane", "Station Road", "High Street", "Church Street", "Victoria Road", "Kingsway", "Albert Street",
        "Queens Parade", "Bridge Street", "Park Avenue", "Chapel Row", "Wharf Road", "Canal Street", "Market Place",
        "Northgate", "Riverside Way", "Foundry Lane", "Brewery Yard", "Tannery Close", "Orchard Way", "Harbour Rd",
        "Castle Hill", "Abbey Road", "Greenfield Ave", "Moor Lane", "Hollybush Lane", "Ropewalk", "Dock Street",
        "St Mary's Road", "London Rd", "Glebe Road", "Elm Grove", "Cattle Market", "Saxon Way", "Kiln Lane",
    ),
    (
        "07ddd dddddd", "07ddd ddd ddd", "+44 7ddd dddddd", "01ddd dddddd", "01ddd ddd ddd", "020 dddd dddd",
        "0161 ddd dddd", "0113 ddd dddd", "+44 (0)1ddd dddddd",
    ),
    "en",
)
DE = Country(
    "DE",
    ("Deutschland", "Germany", "DE", "GERMANY"),
    (
        ("München", "Bayern", "80ddd"), ("Nürnberg", "Bavaria", "90ddd"), ("Augsburg", None, "86ddd"),
        ("Bonn", None, "53ddd"), ("Düsseldorf", "NRW", "40ddd"), ("Dortmund", None, "44ddd"),
        ("Hamburg", None, "20ddd"), ("Bremen", None, "28ddd"), ("Hannover", "Niedersachsen", "30ddd"),
        ("Leipzig", "Sachsen", "04ddd"), ("Dresden", None, "01ddd"), ("Berlin", None, "10ddd"),
        ("Stuttgart", "Baden-Württemberg", "70ddd"), ("Freiburg im Breisgau", None, "79ddd"),
        ("Mannheim", None, "68ddd"), ("Frankfurt am Main", "Hessen", "60ddd"), ("Kassel", None, "34ddd"),
        ("Erfurt", "Thüringen", "99ddd"), ("Rostock", None, "18ddd"), ("Kiel", None, "24ddd"),
        ("Regensburg", None, "93ddd"), ("Würzburg", None, "97ddd"), ("Mainz", None, "55ddd"),
    ),
    (
        "Hauptstraße", "Bahnhofstraße", "Industriestr.", "Gewerbering", "Am Hafen", "Lindenallee", "Schillerstraße",
        "Goethestr.", "Mühlenweg", "Kirchplatz", "Am Güterbahnhof", "Lagerhausstraße", "Rheinallee", "Bergstraße",
        "Marktplatz", "Werkstraße", "Friedrich-Ebert-Str.", "Kastanienweg", "Zeppelinstraße", "Hafenstraße",
        "Im Gewerbegebiet", "Poststraße", "Ringstraße", "Dorfstr.",
    ),
    (
        "0ddd dddddd", "0ddd ddd ddd", "+49 1dd dddddddd", "+49 ddd dddddd", "01dd ddddddd", "0dd dddd dddd",
    ),
    "de",
)
AT = Country(
    "AT",
    ("Österreich", "Austria", "AT"),
    (
        ("Wien", None, "1ddd"), ("Graz", "Steiermark", "8ddd"), ("Linz", "Oberösterreich", "4ddd"),
        ("Salzburg", None, "5ddd"), ("Innsbruck", "Tirol", "6ddd"), ("Klagenfurt", "Kärnten", "9ddd"),
        ("Wels", None, "46dd"), ("Villach", None, "95dd"),
    ),
    (
        "Mariahilfer Straße", "Landstraßer Hauptstraße", "Annenstraße", "Linzer Gasse", "Museumstraße",
        "Wiener Straße", "Industriezeile", "Gewerbepark",
    ),
    (
        "0ddd ddddddd", "+43 6dd dddddd", "0664 ddd dddd", "+43 1 ddd dddd",
    ),
    "de",
)
CH = Country(
    "CH",
    ("Schweiz", "Switzerland", "Suisse", "CH"),
    (
        ("Zürich", "ZH", "80dd"), ("Winterthur", None, "84dd"), ("Bern", "BE", "30dd"), ("Basel", None, "40dd"),
        ("Luzern", "LU", "60dd"), ("St. Gallen", None, "90dd"), ("Lausanne", "VD", "10dd"),
        ("Genève", None, "12dd"), ("Lugano", "TI", "69dd"),
    ),
    (
        "Bahnhofstrasse", "Seestrasse", "Industriestrasse", "Rue du Rhône", "Via Nassa", "Dorfstrasse",
        "Zürcherstrasse", "Rue de Lausanne",
    ),
    (
        "0dd ddd dd dd", "+41 dd ddd dd dd", "07d ddd dd dd",
    ),
    "de",
)
FR = Country(
    "FR",
    ("France", "FRANCE", "FR"),
    (
        ("Amiens", None, "80ddd"), ("Lyon", None, "69ddd"), ("Marseille", None, "13ddd"), ("Nantes", None, "44ddd"),
        ("Bordeaux", None, "33ddd"), ("Toulouse", None, "31ddd"), ("Rennes", None, "35ddd"),
        ("Strasbourg", None, "67ddd"), ("Dijon", None, "21ddd"), ("Rouen", None, "76ddd"),
        ("Grenoble", None, "38ddd"), ("Montpellier", None, "34ddd"), ("Reims", None, "51ddd"),
        ("Clermont-Ferrand", None, "63ddd"), ("Paris", None, "750dd"), ("Tours", None, "37ddd"),
    ),
    (
        "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue des Tanneurs",
        "quai de la Loire", "rue du Port", "impasse des Lilas", "chemin des Vignes", "rue Pasteur",
        "avenue de la Gare", "place du Marché", "rue Gambetta", "ZI des Garennes", "allée des Tilleuls",
        "route de Paris",
    ),
    (
        "0d dd dd dd dd", "+33 d dd dd dd dd", "0d.dd.dd.dd.dd", "06 dd dd dd dd",
    ),
    "fr",
)
NL = Country(
    "NL",
    ("Nederland", "Netherlands", "the Netherlands", "NL"),
    (
        ("Amersfoort", None, "38dd @@"), ("Rotterdam", None, "30dd @@"), ("Utrecht", None, "35dd @@"),
        ("Eindhoven", None, "56dd @@"), ("Groningen", None, "97dd @@"), ("Haarlem", None, "20dd @@"),
        ("Zwolle", "Overijssel", "80dd @@"), ("Breda", None, "48dd @@"), ("Leiden", None, "23dd @@"),
        ("Tilburg", "Noord-Brabant", "50dd @@"), ("Maastricht", "Limburg", "62dd @@"),
    ),
    (
        "Prinsengracht", "Kerkstraat", "Industrieweg", "Havenkade", "Molenweg", "Stationsplein", "Dorpsstraat",
        "Nieuwe Binnenweg", "Oude Gracht", "Vaartweg", "Bedrijvenpark",
    ),
    (
        "06 dddd dddd", "06-dddddddd", "+31 6 dddd dddd", "020 ddd dddd", "010-ddd dddd",
    ),
    "nl",
)
BE = Country(
    "BE",
    ("Belgium", "Belgique", "België", "BE"),
    (
        ("Antwerpen", None, "20dd"), ("Gent", None, "90dd"), ("Bruxelles", None, "10dd"), ("Liège", None, "40dd"),
        ("Brugge", None, "80dd"), ("Leuven", None, "30dd"),
    ),
    (
        "Meir", "Rue Neuve", "Korenmarkt", "Chaussée de Louvain", "Industrieweg", "Havenlaan",
    ),
    (
        "04dd dd dd dd", "+32 4dd dd dd dd", "0d ddd dd dd",
    ),
    "fr",
)
IT = Country(
    "IT",
    ("Italia", "Italy", "IT"),
    (
        ("Milano", "MI", "201dd"), ("Torino", "TO", "101dd"), ("Bologna", "BO", "401dd"),
        ("Firenze", "FI", "501dd"), ("Verona", "VR", "371dd"), ("Padova", None, "351dd"), ("Napoli", "NA", "801dd"),
        ("Bari", None, "701dd"), ("Genova", "GE", "161dd"), ("Brescia", "BS", "251dd"), ("Parma", None, "431dd"),
    ),
    (
        "Via Roma", "Corso Italia", "Via Garibaldi", "Viale dell'Industria", "Via Giuseppe Verdi", "Piazza Duomo",
        "Via dei Mille", "Strada Statale 11", "Via Emilia",
    ),
    (
        "3dd ddd dddd", "+39 3dd ddd dddd", "0d ddddddd", "02 dddd dddd",
    ),
    "it",
)
ES = Country(
    "ES",
    ("España", "Spain", "ES"),
    (
        ("Madrid", None, "280dd"), ("Barcelona", None, "080dd"), ("Valencia", None, "460dd"),
        ("Sevilla", None, "410dd"), ("Zaragoza", None, "500dd"), ("Bilbao", "Bizkaia", "480dd"),
        ("Málaga", None, "290dd"), ("Valladolid", None, "470dd"), ("Alicante", "Alicante", "030dd"),
    ),
    (
        "Calle Mayor", "Avenida de la Constitución", "Carrer de Mallorca", "Polígono Industrial Sur",
        "Calle Alcalá", "Paseo de Gracia", "Calle del Puerto", "Camino Viejo",
    ),
    (
        "6dd ddd ddd", "+34 6dd dd dd dd", "9dd ddd ddd", "+34 91 ddd dd dd",
    ),
    "es",
)
PL = Country(
    "PL",
    ("Polska", "Poland", "PL"),
    (
        ("Warszawa", None, "0d-ddd"), ("Kraków", "małopolskie", "3d-ddd"), ("Gdańsk", None, "80-ddd"),
        ("Wrocław", None, "5d-ddd"), ("Poznań", "wielkopolskie", "6d-ddd"), ("Łódź", None, "9d-ddd"),
        ("Katowice", "śląskie", "40-ddd"), ("Lublin", None, "20-ddd"),
    ),
    (
        "ul. Marszałkowska", "ul. Długa", "ul. Przemysłowa", "al. Jerozolimskie", "ul. Składowa", "ul. Portowa",
        "ul. Kwiatowa", "ul. Magazynowa",
    ),
    (
        "5dd ddd ddd", "+48 6dd ddd ddd", "+48 22 ddd dd dd", "7dd-ddd-ddd",
    ),
    "pl",
)
IE = Country(
    "IE",
    ("Ireland", "IRELAND", "Éire", "IE"),
    (
        ("Ennis", "Co. Clare", "V95 @d@d"), ("Galway", "Co. Galway", "H91 @d@d"), ("Limerick", None, "V94 @d@d"),
        ("Dublin", None, "D08 @d@d"), ("Waterford", "Co. Waterford", "X91 @d@d"),
        ("Sligo", "Co. Sligo", "F91 @d@d"), ("Kilkenny", None, "R95 @d@d"),
        ("Athlone", "Co. Westmeath", "N37 @d@d"),
    ),
    (
        "Main Street", "Quay Street", "Mallow Road", "Dock Road", "Business Park", "Church Lane", "Strand Road",
        "Fair Green",
    ),
    (
        "08d ddd dddd", "+353 8d ddd dddd", "021 ddd dddd", "01 ddd dddd",
    ),
    "en",
)
FI = Country(
    "FI",
    ("Finland", "Suomi", "FINLAND"),
    (
        ("Turku", None, "20ddd"), ("Oulu", None, "90ddd"), ("Jyväskylä", None, "40ddd"), ("Kuopio", None, "70ddd"),
        ("Lahti", None, "15ddd"), ("Espoo", None, "02ddd"), ("Vaasa", None, "65ddd"),
    ),
    (
        "Kauppakatu", "Satamatie", "Teollisuustie", "Puistokatu", "Rantakatu", "Asemakatu", "Koulukatu",
    ),
    (
        "040 ddd dddd", "+358 40 ddd dddd", "050 ddd dddd", "0d ddd ddd",
    ),
    "en",
)
SE = Country(
    "SE",
    ("Sweden", "Sverige", "SWEDEN"),
    (
        ("Göteborg", None, "41d dd"), ("Malmö", None, "21d dd"), ("Uppsala", None, "75d dd"),
        ("Västerås", None, "72d dd"), ("Örebro", None, "70d dd"), ("Linköping", None, "58d dd"),
        ("Umeå", None, "90d dd"),
    ),
    (
        "Storgatan", "Hamngatan", "Industrivägen", "Kungsgatan", "Järnvägsgatan", "Sjögatan", "Verkstadsvägen",
    ),
    (
        "070-ddd dd dd", "+46 70 ddd dd dd", "08-ddd ddd dd", "031-ddd dd dd",
    ),
    "en",
)
DK = Country(
    "DK",
    ("Denmark", "Danmark", "DK"),
    (
        ("Aarhus", None, "80dd"), ("Odense", None, "50dd"), ("Aalborg", None, "90dd"), ("Esbjerg", None, "67dd"),
        ("Vejle", None, "71dd"), ("Roskilde", None, "40dd"), ("Kolding", None, "60dd"),
    ),
    (
        "Vestergade", "Havnegade", "Industrivej", "Nørregade", "Søndergade", "Banegårdspladsen", "Fabriksvej",
    ),
    (
        "dd dd dd dd", "+45 dd dd dd dd", "+45 dddd dddd",
    ),
    "en",
)
NO = Country(
    "NO",
    ("Norway", "Norge", "NORWAY"),
    (
        ("Bergen", None, "50dd"), ("Trondheim", None, "70dd"), ("Stavanger", None, "40dd"),
        ("Tromsø", None, "90dd"), ("Drammen", None, "30dd"), ("Kristiansand", None, "46dd"),
    ),
    (
        "Strandgata", "Kongens gate", "Industriveien", "Havnegata", "Storgata", "Sjøgata",
    ),
    (
        "9dd dd ddd", "+47 9dd dd ddd", "4dd dd ddd",
    ),
    "en",
)
PT = Country(
    "PT",
    ("Portugal", "PORTUGAL", "PT"),
    (
        ("Porto", None, "4dd0-ddd"), ("Braga", None, "47d0-ddd"), ("Coimbra", None, "30d0-ddd"),
        ("Faro", None, "80d0-ddd"), ("Aveiro", None, "38d0-ddd"), ("Setúbal", None, "29d0-ddd"),
    ),
    (
        "Rua de Santa Catarina", "Avenida da Liberdade", "Rua do Comércio", "Zona Industrial", "Rua Direita",
        "Travessa do Carmo",
    ),
    (
        "9dd ddd ddd", "+351 9dd ddd ddd", "+351 2dd ddd ddd",
    ),
    "en",
)
# fmt: on
