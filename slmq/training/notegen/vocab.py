"""Word pools: people, company name parts, goods, units, carriers. All invented; none taken from the dev notes."""

# fmt: off
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Alice", "Ben", "Chloe", "Dan", "Eleanor", "Fraser", "Grace", "Harry", "Isla", "Jack", "Kirsty", "Liam",
        "Megan", "Nathan", "Olivia", "Paul", "Rachel", "Sam", "Tariq", "Una", "Vikram", "Wendy", "Yusuf", "Zoe",
        "Bob", "Carla", "Derek", "Fiona", "Gary", "Holly", "Ian", "Jodie", "Kev", "Lorraine", "Marcus", "Niamh",
        "Owen", "Priya", "Rhys", "Shona", "Vera", "Aoife", "Ciaran", "Deepak", "Brendan", "Maggie", "Stu", "Tyler",
        "Brianna", "Carlos", "Dwayne", "Keisha", "Luis", "Madison", "Jasmine", "Hunter", "Maria",
    ),
    "de": (
        "Anja", "Bernd", "Claudia", "Dieter", "Elke", "Florian", "Gabi", "Heiko", "Ines", "Jürgen", "Katrin", "Lukas",
        "Monika", "Nils", "Oliver", "Petra", "Ralf", "Sabine", "Tobias", "Uwe", "Verena", "Wolfgang",
    ),
    "fr": (
        "Amélie", "Bruno", "Céline", "Didier", "Élodie", "François", "Gaëlle", "Hugo", "Inès", "Julien", "Karine",
        "Laurent", "Manon", "Nicolas", "Pascal", "Sandrine", "Thierry", "Valérie", "Yannick",
    ),
    "nl": (
        "Bram", "Daan", "Eva", "Femke", "Joost", "Lotte", "Maarten", "Noor", "Pieter", "Sanne", "Wouter", "Jeroen",
        "Ilse", "Ruben", "Marloes", "Koen", "Esther", "Thijs", "Willemijn",
    ),
    "it": (
        "Alessandro", "Chiara", "Davide", "Federica", "Giorgio", "Luca", "Marco", "Paola", "Sara", "Valentina",
        "Matteo", "Francesca", "Simone", "Elisa", "Stefano", "Giulia", "Andrea", "Roberta", "Fabio", "Ilaria",
    ),
    "es": (
        "Alejandro", "Carmen", "Diego", "Elena", "Javier", "Lucía", "Marta", "Pablo", "Raúl", "Sofía", "Sergio",
        "Nuria", "Álvaro", "Rocío", "Iñaki", "Pilar", "Jorge", "Beatriz", "Marcos", "Ainhoa",
    ),
    "pl": (
        "Agnieszka", "Bartosz", "Ewa", "Kamil", "Katarzyna", "Marek", "Piotr", "Tomasz", "Zofia", "Łukasz", "Magda",
        "Paweł", "Joanna", "Krzysztof", "Anna", "Michał", "Beata", "Grzegorz", "Monika",
    ),
    "in": (
        "Anil", "Deepa", "Harish", "Kavya", "Manoj", "Neha", "Rajesh", "Sunita", "Venkat", "Lakshmi", "Arjun",
        "Pooja", "Suresh", "Anjali", "Ravi", "Meena", "Prakash", "Divya", "Ganesh",
    ),
    "jp": (
        "Haruto", "Yui", "Takashi", "Aiko", "Kenji", "Sakura", "Daisuke", "Emi", "Hiroshi", "Naoko", "Yuki", "Ryo",
        "Keiko", "Shota", "Mayumi",
    ),
    "nordic": ("Aino", "Mikko", "Elin", "Lars", "Sofie", "Mads", "Ingrid", "Henrik", "Sanna", "Jukka", "Freja", "Ola"),
    "pt": ("João", "Ana", "Rui", "Inês", "Tiago", "Marta", "Nuno", "Leonor", "Diogo", "Catarina"),
}
# fmt: on

# fmt: off
SURNAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Baxter", "Cartwright", "Dobson", "Fletcher", "Gallagher", "Hughes", "Jennings", "Kowalczyk", "Lennox",
        "McAllister", "Norris", "Okafor", "Patel", "Quinn", "Robertson", "Shah", "Thornton", "Underwood", "Vaughan",
        "Whitfield", "Yates", "Abbott", "Brennan", "Chowdhury", "Delaney", "Ellison", "Fitzgerald", "Garcia",
        "Henderson", "Ingram", "Johnson", "Kaplan", "Lopez", "Murphy", "Nguyen", "O'Brien", "Price", "Reyes",
        "Sullivan", "Turner", "Walsh", "Young", "Khan", "Morrison", "Booth", "Crawley",
    ),
    "de": (
        "Bauer", "Fischer", "Hoffmann", "Keller", "Lehmann", "Meyer", "Neumann", "Richter", "Schäfer", "Schulz",
        "Vogel", "Wagner", "Zimmermann", "Krüger", "Brandt", "Huber", "Gruber",
    ),
    "fr": (
        "Bernard", "Dubois", "Fontaine", "Garnier", "Lambert", "Lefèvre", "Mercier", "Moreau", "Petit", "Rousseau",
        "Girard", "Chevalier",
    ),
    "nl": (
        "de Vries", "Bakker", "Janssen", "Visser", "Smit", "Mulder", "de Boer", "van Dijk", "Meijer", "Bos", "Vos",
        "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    ),
    "it": (
        "Rossi", "Bianchi", "Colombo", "Ferrari", "Ricci", "Marino", "Greco", "Bruno", "Conti", "Gallo", "Esposito",
        "Romano", "Fontana", "Moretti", "Barbieri", "Lombardi",
    ),
    "es": (
        "García", "Martínez", "López", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Moreno", "Gil", "Castro",
        "Ortega", "Delgado", "Vega", "Iglesias", "Serrano",
    ),
    "pl": (
        "Nowak", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański", "Dąbrowski",
        "Kozłowski", "Jankowska", "Mazur", "Krawczyk", "Pawlak", "Michalski",
    ),
    "in": (
        "Reddy", "Sharma", "Iyer", "Nair", "Gupta", "Kulkarni", "Menon", "Rao", "Joshi", "Pillai", "Verma", "Bhat",
        "Chopra", "Desai", "Mehta", "Patil", "Saxena",
    ),
    "jp": (
        "Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida",
        "Yamada", "Sasaki", "Matsumoto", "Inoue",
    ),
    "nordic": (
        "Virtanen", "Korhonen", "Lindqvist", "Johansson", "Nielsen", "Hansen", "Berg", "Andersen", "Nieminen",
        "Eriksson", "Dahl", "Holm",
    ),
    "pt": ("Silva", "Santos", "Ferreira", "Costa", "Oliveira", "Pereira", "Rodrigues", "Almeida", "Sousa"),
}
# fmt: on

# Company names: "<head> <trade> <legal form>", each part split between train and held out.
# fmt: off
COMPANY_HEADS: tuple[str, ...] = (
    "Northgate", "Blackwater", "Redfern", "Ashby", "Kestrel", "Harbourside", "Millbrook", "Sunvale", "Greystone",
    "Copperfield", "Oakridge", "Bluebell", "Highmoor", "Riverbend", "Silverline", "Thornbury", "Westfield",
    "Elmstead", "Foxglove", "Granite", "Hollins", "Ironbridge", "Juniper", "Larkspur", "Meadowgate", "Nettleton",
    "Orchard", "Pennine", "Quayside", "Rosewood", "Saltmarsh", "Tidewater", "Upland", "Valley", "Wrenfield", "Alder",
    "Beacon", "Cobalt", "Driftwood", "Evergreen", "Fairhaven", "Goldcrest", "Heron", "Kingfisher", "Lighthouse",
    "Marlow", "Norbury", "Pinecrest", "Redwood", "Summit", "Trident", "Vantage", "Whitecliff", "Zenith", "Aurora",
    "Bramble", "Cedar", "Delta", "Ember", "Falcon", "Glenview", "Horizon", "Ivy", "Keystone", "Lakeshore", "Maple",
    "Nova", "Osprey", "Polaris", "Ridgeway", "Sterling", "Tamarind", "Unity", "Vista",
)
# fmt: on
# fmt: off
COMPANY_TRADES: tuple[str, ...] = (
    "Bakery", "Builders Merchants", "Dental Practice", "Brewing Co.", "Joinery", "Veterinary Clinic", "Print Shop",
    "Garden Centre", "Hardware", "Catering", "Plumbing Supplies", "Electrical", "Coffee Roasters", "Florists",
    "Pharmacy", "Fitness", "Engineering", "Packaging", "Motors", "Dairy", "Textiles", "Events", "Hotel",
    "Primary School", "Medical Centre", "Auto Parts", "Furniture", "Farm Shop", "Distillery", "Laboratories", "Signs",
    "Tiles", "Timber", "Kitchens", "Cycles", "Café", "Deli", "Brasserie", "Optics", "Surgery", "Logistics Hub",
    "Studios", "Outdoor", "Marine", "Pet Supplies", "Bookshop", "Roofing", "Paints", "Nursery",
)
# fmt: on
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "UK": ("Ltd", "Ltd.", "Limited", "plc", "LLP", "", "", ""),
    "US": ("Inc.", "LLC", "Co.", "Corp.", "", "", ""),
    "CA": ("Inc.", "Ltd.", "Ltée", ""),
    "DE": ("GmbH", "GmbH & Co. KG", "AG", "e.K.", "KG", ""),
    "AT": ("GmbH", "KG", "OG", ""),
    "CH": ("AG", "GmbH", "SA", ""),
    "FR": ("SARL", "SAS", "SA", ""),
    "NL": ("B.V.", "BV", "V.O.F.", ""),
    "BE": ("BV", "SRL", "NV", ""),
    "IT": ("S.r.l.", "S.p.A.", "Srl", ""),
    "ES": ("S.L.", "S.A.", "SL", ""),
    "PL": ("Sp. z o.o.", "S.A.", ""),
    "IE": ("Ltd", "Limited", "DAC", ""),
    "AU": ("Pty Ltd", "Pty. Ltd.", ""),
    "IN": ("Pvt Ltd", "Pvt. Ltd.", "& Sons", "Traders", ""),
    "JP": ("K.K.", "Co., Ltd.", "Inc.", ""),
    "FI": ("Oy", "Oyj", "Ab", ""),
    "SE": ("AB", "HB", ""),
    "DK": ("ApS", "A/S", ""),
    "NO": ("AS", "ASA", ""),
    "NZ": ("Ltd", "Limited", ""),
    "PT": ("Lda.", "S.A.", "Lda", ""),
}
# Whole names for some non-company consignees.
# fmt: off
INSTITUTIONS: tuple[str, ...] = (
    "St Aidan's Primary School", "Riverside Community Centre", "The Old Fire Station", "Ward 7, City Hospital",
    "Scout Hut", "Parish Hall", "Students' Union Bar", "Marina Office", "Sports Club Clubhouse", "Town Museum",
    "Village Surgery", "Allotment Society", "Cathedral Shop", "Youth Hostel", "Lifeboat Station", "County Archive",
    "Railway Heritage Trust", "Leisure Centre Café", "Hospice Charity Shop", "Food Bank",
)
# fmt: on

# fmt: off
CARRIERS: tuple[str, ...] = (
    "DHL Freight", "DPD", "Dachser", "DB Schenker", "Kuehne+Nagel", "XPO Logistics", "Palletline", "Pall-Ex", "UPS",
    "FedEx Freight", "GLS", "Geodis", "TNT", "Hermes", "Royal Mail", "An Post", "Canada Post", "Purolator",
    "StarTrack", "Toll", "Blue Dart", "Yamato Transport", "Sagawa", "Poczta Polska", "Raben", "SEUR", "BRT", "PostNL",
    "bpost", "Chronopost", "Estes Express", "Old Dominion", "ABF Freight", "Tuffnells", "APC Overnight",
)
# fmt: on
# fmt: off
JOB_TITLES: tuple[str, ...] = (
    "Operations Manager", "Office Manager", "Purchasing", "Procurement Lead", "Site Manager", "Head Chef",
    "Practice Manager", "Store Manager", "Facilities", "Logistics Coordinator", "Dispatch", "Buyer",
    "Warehouse Supervisor", "Bursar", "Owner", "Director", "Admin Assistant", "Customer Service",
)
# fmt: on
