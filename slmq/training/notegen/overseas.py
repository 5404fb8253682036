"""Invented but plausible places of the hand-written countries outside Europe (see country.py for the patterns)."""

from slmq.training.notegen.country import Country

# fmt: off
US = Country(
    "US",
    ("USA", "United States", "U.S.A.", "US"),
    (
        ("Brooklyn", "NY", "112dd"), ("Buffalo", "N.Y.", "142dd"), ("Albany", "New York", "122dd"),
        ("Milwaukee", "WI", "532dd"), ("Peoria", "Illinois", "616dd"), ("Austin", "TX", "787dd"),
        ("El Paso", "Texas", "799dd"), ("Houston", "TX", "770dd"), ("Denver", "CO", "802dd"),
        ("Boulder", "Colo.", "803dd"), ("Portland", "OR", "972dd"), ("Eugene", "Oregon", "974dd"),
        ("Seattle", "WA", "981dd"), ("Spokane", "WA", "992dd"), ("Phoenix", "AZ", "850dd"),
        ("Tucson", "Arizona", "857dd"), ("Atlanta", "GA", "303dd"), ("Savannah", "Ga.", "314dd"),
        ("Columbus", "OH", "432dd"), ("Dayton", "Ohio", "454dd"), ("Nashville", "TN", "372dd"),
        ("Memphis", "Tenn.", "381dd"), ("Madison", "WI", "537dd"), ("Duluth", "MN", "558dd"),
        ("Boise", "ID", "837dd"), ("Reno", "NV", "895dd"), ("Raleigh", "NC", "276dd"),
        ("Charleston", "SC", "294dd"), ("Richmond", "VA", "232dd"), ("Pittsburgh", "PA", "152dd"),
        ("Newark", "NJ", "071dd"), ("Hartford", "CT", "061dd"), ("Burlington", "VT", "054dd"),
        ("Sacramento", "CA", "958dd"), ("Oakland", "Calif.", "946dd"), ("Fresno", "CA", "937dd"),
        ("Tulsa", "OK", "741dd"), ("Omaha", "Nebraska", "681dd"), ("Anchorage", "AK", "995dd"),
    ),
    (
        "Main St", "Oak Avenue", "W. Lake St.", "Industrial Pkwy", "Commerce Dr", "N. Broadway", "Elm St",
        "Maple Ave", "Route 9", "Market Street", "S. State St", "Harbor Blvd", "Cedar Lane", "E. 5th Street",
        "Pine Ridge Rd", "Riverside Dr", "Warehouse Row", "Airport Rd", "Washington Ave", "Lincoln Hwy",
        "Mill Creek Rd", "Sunset Blvd", "Franklin Street", "Depot St", "Canal Blvd", "Prospect Ave",
        "Kensington Ct", "Old County Rd", "Hillside Ave", "Tech Park Dr",
    ),
    (
        "(ddd) 555-dddd", "ddd-555-dddd", "ddd.555.dddd", "+1 ddd 555 dddd", "ddd 555 dddd", "+1 (ddd) 555-dddd",
    ),
    "en",
)
CA = Country(
    "CA",
    ("Canada", "CANADA", "CA"),
    (
        ("Calgary", "AB", "T2P d@d"), ("Edmonton", "Alberta", "T5J d@d"), ("Toronto", "ON", "M5V d@d"),
        ("Ottawa", "Ontario", "K1P d@d"), ("Hamilton", "ON", "L8P d@d"), ("Laval", "QC", "H7N d@d"),
        ("Québec", "QC", "G1R d@d"), ("Vancouver", "BC", "V6B d@d"), ("Victoria", "B.C.", "V8W d@d"),
        ("Winnipeg", "MB", "R3C d@d"), ("Halifax", "NS", "B3J d@d"), ("Regina", "SK", "S4P d@d"),
    ),
    (
        "Bay St", "Rue Saint-Denis", "King Street W", "Portage Ave", "Jasper Avenue", "Granville St",
        "Rue Sherbrooke Est", "Barrington St", "Macleod Trail SE", "Dundas St E", "Albert Street",
    ),
    (
        "ddd-555-dddd", "(ddd) 555-dddd", "+1 ddd 555 dddd",
    ),
    "en",
)
AU = Country(
    "AU",
    ("Australia", "AUSTRALIA", "AU"),
    (
        ("Adelaide", "SA", "50dd"), ("Geelong", "VIC", "32dd"), ("Ballarat", "Vic", "33dd"),
        ("Newcastle", "NSW", "23dd"), ("Wollongong", "NSW", "25dd"), ("Townsville", "QLD", "48dd"),
        ("Toowoomba", "Qld", "43dd"), ("Fremantle", "WA", "61dd"), ("Hobart", "TAS", "70dd"),
        ("Darwin", "NT", "08dd"), ("Canberra", "ACT", "26dd"),
    ),
    (
        "Grenfell Street", "Sturt Hwy", "Beach Road", "Princes Hwy", "Flinders St", "Parramatta Rd", "Hay Street",
        "Ruthven St", "Industrial Drive", "Stirling Hwy",
    ),
    (
        "04dd ddd ddd", "(0d) dddd dddd", "+61 4dd ddd ddd", "0d dddd dddd",
    ),
    "en",
)
IN = Country(
    "IN",
    ("India", "INDIA", "IN"),
    (
        ("Visakhapatnam", "Andhra Pradesh", "5300dd"), ("Pune", "Maharashtra", "4110dd"),
        ("Chennai", "Tamil Nadu", "6000dd"), ("Bengaluru", "Karnataka", "5600dd"),
        ("Jaipur", "Rajasthan", "3020dd"), ("Kochi", "Kerala", "6820dd"), ("Ahmedabad", "Gujarat", "3800dd"),
        ("Lucknow", "U.P.", "2260dd"), ("Nagpur", None, "4400dd"), ("Indore", "M.P.", "4520dd"),
    ),
    (
        "MG Road", "Station Road", "Ring Road", "Nehru Nagar", "Industrial Estate", "Gandhi Marg", "Anna Salai",
        "Link Road", "Sector 18", "Old Market Road", "Camp Road",
    ),
    (
        "9dddd ddddd", "+91 9dddd ddddd", "98ddd ddddd", "0dd-dddd dddd", "+91 7ddddddddd",
    ),
    "en",
)
JP = Country(
    "JP",
    ("Japan", "JAPAN", "JP"),
    (
        ("Osaka", None, "5dd-dddd"), ("Nagoya", "Aichi", "4dd-dddd"), ("Sapporo", "Hokkaido", "06d-dddd"),
        ("Fukuoka", None, "81d-dddd"), ("Kyoto", None, "60d-dddd"), ("Yokohama", "Kanagawa", "22d-dddd"),
        ("Sendai", "Miyagi", "98d-dddd"), ("Kobe", "Hyogo", "65d-dddd"),
    ),
    (
        "Kitahama", "Sakae", "Nishi-Shinsaibashi", "Hakata-eki-mae", "Minatomirai", "Kawaramachi", "Chuo", "Odori",
    ),
    (
        "0d-dddd-dddd", "+81 d0 dddd dddd", "090-dddd-dddd", "080-dddd-dddd",
    ),
    "en",
)
NZ = Country(
    "NZ",
    ("New Zealand", "NZ", "NEW ZEALAND"),
    (
        ("Hamilton", None, "32dd"), ("Tauranga", None, "31dd"), ("Dunedin", None, "90dd"), ("Napier", None, "41dd"),
        ("Nelson", None, "70dd"), ("Christchurch", None, "80dd"), ("Palmerston North", None, "44dd"),
    ),
    (
        "Victoria Street", "Cameron Road", "Great South Road", "Hardy Street", "Marine Parade", "Princes Street",
    ),
    (
        "021 ddd dddd", "(09) ddd dddd", "+64 21 ddd dddd", "027 ddd dddd",
    ),
    "en",
)
# fmt: on
