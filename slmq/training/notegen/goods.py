"""Goods by trade: what a kind of business orders, and the units each line of goods comes in.

A line reads "description|unit,unit,...": units are plural English forms; measures (kg, t, m, l, m²) allow
decimal quantities. A note orders from one sector, so its lines belong together.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sector:
    name: str
    trades: tuple[str, ...]
    goods: tuple[str, ...]


# fmt: off
SECTORS: tuple[Sector, ...] = (
    Sector(
        "office",
        ("Print Shop", "Accountants", "Solicitors", "Architects", "Studios", "Estate Agents", "Consulting"),
        (
            "A4 copier paper|reams,boxes,pallets", "A3 paper|reams,boxes", "toner cartridges|boxes,pcs,units",
            "envelopes C5|boxes,packs,cartons", "lever arch files|boxes,packs", "whiteboard markers|packs,boxes",
            "office chairs|pcs,units,boxes", "desk lamps|units,boxes", "printer ink (black)|packs,boxes,pcs",
            "sticky notes|packs,boxes", "correction tape|packs,boxes", "shredder bags|rolls,packs",
            "tracing paper A2|pads,packs", "ring binders|boxes,cartons", "archive boxes|bundles,packs,pallets",
            "business cards|boxes,packs", "printed leaflets|boxes,cartons,pallets", "label rolls|rolls,boxes",
        ),
    ),
    Sector(
        "catering",
        ("Bakery", "Café", "Deli", "Brasserie", "Catering", "Hotel", "Pizzeria", "Bistro", "Tea Rooms"),
        (
            "compostable cups 8oz|cases,sleeves,boxes,cartons", "coffee beans|kg,bags",
            "flour type 550|kg,sacks,bags", "basmati rice|kg,sacks,bags", "olive oil|l,tins,bottles,cases",
            "sugar|kg,bags,sacks", "butter, unsalted|kg,blocks,cases", "eggs (free range)|trays,cases,boxes",
            "napkins|packs,cases,boxes", "takeaway containers|cases,boxes,sleeves",
            'pizza boxes 12"|bundles,packs,boxes', "cheddar blocks|kg,blocks,cases",
            "tomatoes (vine)|kg,crates,trays", "fresh salmon|kg,boxes", "frozen chips|cases,bags,kg",
            "milk, semi-skimmed|l,crates,bottles", "wine glasses|boxes,racks,pcs", "dinner plates|boxes,pcs,crates",
            "cling film|rolls,boxes", "dishwasher tablets|tubs,boxes,packs",
        ),
    ),
    Sector(
        "building",
        ("Builders Merchants", "Joinery", "Roofing", "Construction", "Plumbing Supplies", "Timber", "Tiles"),
        (
            "cement|bags,pallets,kg", "building sand|bulk bags,t,tonnes", "plasterboard 2400x1200|sheets,pallets",
            "copper pipe 15mm|m,lengths,metres", "roof tiles (terracotta)|pallets,pcs,packs",
            "steel rebar 12mm|m,bundles,t", "timber battens 25x50|lengths,bundles,m", "insulation rolls|rolls,packs",
            "ceramic floor tiles|m²,boxes,sqm", "grout, grey|bags,kg,tubs", "wall plugs|boxes,packs",
            "screws 4x40|boxes,packs", "MDF boards 18mm|sheets,pallets", "fencing panels|pcs,panels",
            "fence posts|pcs,bundles", "gravel 20mm|bulk bags,t,tonnes", "concrete blocks|pallets,pcs",
            "paint, white emulsion|tins,l,tubs", "damp-proof membrane|rolls,m", "ready-mix mortar|bags,tubs,kg",
        ),
    ),
    Sector(
        "garden",
        ("Garden Centre", "Nursery", "Farm Shop", "Landscaping", "Allotments", "Florists", "Stables"),
        (
            "garden compost|bags,pallets", "bark mulch|bags,bulk bags", "fertiliser 20-10-10|bags,kg,sacks",
            "animal feed pellets|sacks,bags,kg,t", "horse bedding|bales,bags", "topsoil|bulk bags,t,tonnes",
            "daffodil bulbs|nets,bags,boxes", "potted herbs|trays,pcs", "seed potatoes|sacks,kg,bags",
            "bird seed|bags,kg,sacks", "hay|bales", "terracotta pots|pcs,boxes,pallets", "garden twine|rolls,boxes",
            "Christmas trees|pcs,bundles", "grass seed|bags,kg,boxes", "wheelbarrows|pcs,units", "shovels|pcs,boxes",
        ),
    ),
    Sector(
        "medical",
        ("Dental Practice", "Veterinary Clinic", "Pharmacy", "Surgery", "Medical Centre", "Laboratories", "Care Home"),
        (
            "nitrile gloves (L)|boxes,cases,cartons", "surgical masks|boxes,cartons", "syringes 5ml|boxes,cartons",
            "bandages|boxes,packs", "hand sanitiser 500ml|bottles,cases,cartons", "pipette tips|racks,boxes,cases",
            "microscope slides|boxes,packs", "lab coats|pcs,boxes", "reagent bottles|boxes,cases,pcs",
            "dental bibs|boxes,packs,cartons", "wheelchairs|pcs,units", "first aid kits|pcs,boxes,units",
            "dry dog food 15kg|bags,sacks", "cat litter|bags,sacks", "sharps bins|boxes,pcs,cartons",
            "incontinence pads|packs,cases,cartons", "disinfectant|l,bottles,cans,drums",
        ),
    ),
    Sector(
        "events",
        ("Events", "Marquees", "Sports Club", "Theatre", "Festival", "Productions", "Venues"),
        (
            "folding tables|pcs,units", "stacking chairs|pcs,stacks,units", "crowd barriers|pcs,units",
            "traffic cones|pcs,stacks", "marquee poles|bundles,pcs", "duct tape 50mm|rolls,boxes",
            "bunting 10m|packs,pcs", "staging decks 8x4ft|pcs,units", "lighting stands|pcs,bags",
            "vinyl banners|pcs,rolls", "bottled water 1.5L|cases,pallets,packs", "ice|bags,kg",
            "portable heaters|units,pcs", "table linen|packs,boxes,pcs", "fairy lights|boxes,sets",
        ),
    ),
    Sector(
        "drinks",
        ("Brewing Co.", "Distillery", "Wine Bar", "Taproom", "Off Licence", "Vineyard", "Pub"),
        (
            "craft beer|kegs,casks,cases", "gin 70cl|cases,bottles", "sparkling wine|cases,bottles,pallets",
            "tonic water|cases,crates,packs", "glass bottles 330ml|pallets,cases", "crown caps|boxes,bags",
            "hops (cascade)|kg,bags", "malt|sacks,kg,t", "bottle shippers 12x75cl|bundles,pallets,pcs",
            "cider|kegs,cases,bottles", "orange juice|cases,l,cartons", "CO2 cylinders|pcs,cylinders",
            "beer mats|boxes,packs", "cellar cleaner|drums,l,cans",
        ),
    ),
    Sector(
        "tech",
        ("Electrical", "Solar", "IT Services", "Electronics", "Data Centre", "Security Systems"),
        (
            "CAT6 cable|m,boxes,reels", "network switches|units,pcs,boxes", "monitors 27 inch|units,pcs,boxes",
            "keyboards|pcs,boxes,units", "laptop stands|pcs,boxes", "solar panels 400W|pcs,pallets,panels",
            "inverters|units,pcs,boxes", "lithium batteries|boxes,pcs,packs", "cable ties|packs,bags,boxes",
            "LED panels 600x600|boxes,pcs", "smoke alarms|boxes,pcs,units", "PVC cable ducting|lengths,m,bundles",
            "patch cords 2m|bags,packs,boxes", "server racks 42U|units,pcs", "extension leads|boxes,pcs",
        ),
    ),
    Sector(
        "cleaning",
        ("Facilities", "Cleaning Services", "Laundry", "School", "Leisure Centre", "Housing Association"),
        (
            "paper towels|cases,rolls,packs", "toilet rolls|cases,packs,pallets", "bin liners|rolls,boxes,cases",
            "floor polish|l,drums,cans", "cleaning chemicals|l,drums,cans", "mop heads|packs,pcs,boxes",
            "hand soap 5L|cans,cases,bottles", "microfibre cloths|packs,boxes", "hi-vis vests|pcs,boxes,packs",
            "safety boots size 9|pairs,boxes", "towels|packs,pcs,bales", "bed linen sets|sets,packs",
            "exercise books|boxes,packs,cartons", "school chairs|pcs,stacks",
        ),
    ),
    Sector(
        "motor",
        ("Motors", "Auto Parts", "Garage", "Tyres", "Cycles", "Marine", "Haulage"),
        (
            "engine oil 5W-30|l,drums,cans,bottles", "brake pads|sets,boxes,pcs", "spare tyres|pcs,units",
            "bike inner tubes|boxes,pcs,packs", "diesel exhaust fluid|l,IBCs,drums,cans", "wiper blades|pcs,boxes",
            "hydraulic hose|m,coils,lengths", "car batteries|units,pcs", "antifreeze|l,cans,drums",
            "workshop rags|bags,kg,bales", "marine rope 12mm|m,coils", "chain lube|cans,boxes",
        ),
    ),
)
# fmt: on

SINGULAR = {
    "boxes": "box",
    "reams": "ream",
    "pallets": "pallet",
    "pcs": "pc",
    "units": "unit",
    "packs": "pack",
    "cartons": "carton",
    "rolls": "roll",
    "bundles": "bundle",
    "cases": "case",
    "sleeves": "sleeve",
    "bags": "bag",
    "sacks": "sack",
    "tins": "tin",
    "bottles": "bottle",
    "blocks": "block",
    "trays": "tray",
    "crates": "crate",
    "racks": "rack",
    "tubs": "tub",
    "sheets": "sheet",
    "lengths": "length",
    "metres": "metre",
    "tonnes": "tonne",
    "bulk bags": "bulk bag",
    "panels": "panel",
    "bales": "bale",
    "drums": "drum",
    "cans": "can",
    "stacks": "stack",
    "pads": "pad",
    "nets": "net",
    "sets": "set",
    "kegs": "keg",
    "casks": "cask",
    "cylinders": "cylinder",
    "reels": "reel",
    "pairs": "pair",
    "IBCs": "IBC",
    "coils": "coil",
}
MEASURES = {"kg", "t", "tonnes", "m", "metres", "l", "m²", "sqm", "liter", "Liter", "litres"}
# Goods written in the note's own language, units already local ("plural" forms; SINGULAR_LOCAL for one).
# fmt: off
LOCAL_GOODS: dict[str, tuple[str, ...]] = {
    "fr": (
        "ciment|sacs,palettes", "carrelage gris|m²,cartons", "plâtre|sacs,kg", "tuiles|palettes",
        "parpaings|palettes",
        "gobelets en carton|cartons,colis", "farine T55|sacs,kg", "huile d'olive|bidons,l",
        "papier A4|ramettes,cartons",
        "gants nitrile|boîtes,cartons", "eau minérale|packs,palettes", "vin rouge|caisses,cartons",
        "café en grains|kg,sacs", "essuie-mains|colis,cartons", "peinture blanche|pots,l", "sable|t,sacs",
    ),
    "de": (
        "Zement|Säcke,Paletten", "Fliesenkleber|Säcke,kg", "Dachziegel|Paletten", "Kopierpapier A4|Kartons,Paletten",
        "Einweghandschuhe|Kartons,Pakete", "Mineralwasser|Kisten,Paletten", "Weißwein|Kartons,Kisten",
        "Kaffeebohnen|kg,Säcke", "Mehl Type 405|Säcke,kg", "Schrauben 4x40|Pakete,Kartons", "Dämmwolle|Rollen,Pakete",
        "Heizöl|Liter", "Bier|Fässer,Kisten", "Reinigungsmittel|Kanister,Liter", "Pflastersteine|Paletten,m²",
    ),
    "nl": (
        "tegellijm|zakken,pallets", "potgrond|zakken,pallets", "kopieerpapier|dozen,pallets",
        "koffiebonen|kg,zakken",
        "mineraalwater|kratten,pallets", "handschoenen|dozen", "bier|vaten,kratten", "schoonmaakmiddel|liter,vaten",
        "isolatiemateriaal|rollen,pakken", "stoeptegels|pallets,m²", "frituurolie|liter,vaten",
        "servetten|dozen,pakken",
    ),
}
SINGULAR_LOCAL = {
    "Säcke": "Sack", "Paletten": "Palette", "Kartons": "Karton", "Kisten": "Kiste", "Pakete": "Paket",
    "Rollen": "Rolle", "Fässer": "Fass", "sacs": "sac", "palettes": "palette", "cartons": "carton",
    "ramettes": "ramette", "boîtes": "boîte", "packs": "pack", "caisses": "caisse", "bidons": "bidon", "pots": "pot",
    "zakken": "zak", "pallets": "pallet", "dozen": "doos", "kratten": "krat", "vaten": "vat", "rollen": "rol",
    "pakken": "pak",
}
# fmt: on
ABBREVIATIONS = {  # plural -> (singular, plural) abbreviations
    "cartons": ("ctn", "ctns"),
    "boxes": ("bx", "bxs"),
    "pallets": ("plt", "plts"),
    "packs": ("pkt", "pkts"),
    "bottles": ("btl", "btls"),
    "rolls": ("rl", "rls"),
    "kg": ("kg", "kgs"),
    "l": ("ltr", "ltrs"),
}
# A pack size or dimension written inside a description ("Pils 50 l", "mats 600x900"): its number is no quantity.
PACK_SIZES = (
    "{n} l", "{n}L", "{n} kg", "{n}kg", "{n} ml", "{n}ml", "{n} g", "{n} lb", "{n}mm", "{n} m", "{a}x{b}",
    "{a} x {b} cm", "({k} x {n} l)", "({k} x {n} ml)", "{n}W", "{n} µl", "Ø{n}mm", "({k} un.)", "({k} pcs)",
)  # fmt: skip
QUALIFIERS: dict[str, tuple[str, ...]] = {  # a variant after a description (synth-16): "muffins, assorted"
    "en": (
        "assorted", "mixed", "large", "small", "medium", "white", "black", "blue", "red", "grey", "natural", "brass",
        "oak", "stainless", "size M", "size L", "hardback", "refill", "spare", "printed", "plain", "recycled",
        "organic", "frozen", "chilled", "boxed", "flat-packed", "display only", "left-hand", "heavy duty", "matt",
    ),
    "de": (
        "sortiert", "gemischt", "weiß", "schwarz", "blau", "groß", "klein", "Gr. L", "Edelstahl", "Eiche", "bedruckt",
        "tiefgekühlt",
    ),
    "fr": ("assortis", "blanc", "noir", "bleu", "grand modèle", "petit modèle", "inox", "chêne", "imprimé", "surgelé"),
    "nl": ("assorti", "wit", "zwart", "blauw", "groot", "klein", "rvs", "eiken", "bedrukt", "diepvries"),
}  # fmt: skip
QUALIFIER_FORMS = ("{d}, {q}", "{d}, {q}", "{d} ({q})", "{d} - {q}")
LOCAL_UNITS: dict[str, dict[str, tuple[str, str]]] = {  # plural English -> (singular, plural) in the note's language
    "de": {
        "pallets": ("Palette", "Paletten"),
        "boxes": ("Karton", "Kartons"),
        "cartons": ("Karton", "Kartons"),
        "crates": ("Kiste", "Kisten"),
        "pcs": ("Stk.", "Stk."),
        "units": ("Stück", "Stück"),
        "sacks": ("Sack", "Säcke"),
        "bags": ("Beutel", "Beutel"),
        "rolls": ("Rolle", "Rollen"),
        "drums": ("Fass", "Fässer"),
        "bundles": ("Bund", "Bund"),
        "packs": ("Paket", "Pakete"),
        "cans": ("Kanister", "Kanister"),
        "bottles": ("Flasche", "Flaschen"),
        "l": ("l", "Liter"),
        "cases": ("Kiste", "Kisten"),
        "sheets": ("Platte", "Platten"),
    },
    "fr": {
        "pallets": ("palette", "palettes"),
        "boxes": ("carton", "cartons"),
        "cartons": ("colis", "colis"),
        "crates": ("caisse", "caisses"),
        "pcs": ("pièce", "pièces"),
        "sacks": ("sac", "sacs"),
        "bags": ("sac", "sacs"),
        "rolls": ("rouleau", "rouleaux"),
        "drums": ("fût", "fûts"),
        "cans": ("bidon", "bidons"),
        "bottles": ("bouteille", "bouteilles"),
        "l": ("litre", "litres"),
        "packs": ("paquet", "paquets"),
        "cases": ("caisse", "caisses"),
    },
    "nl": {
        "pallets": ("pallet", "pallets"),
        "boxes": ("doos", "dozen"),
        "crates": ("krat", "kratten"),
        "pcs": ("stuk", "stuks"),
        "sacks": ("zak", "zakken"),
        "bags": ("zak", "zakken"),
        "rolls": ("rol", "rollen"),
        "drums": ("vat", "vaten"),
        "packs": ("pak", "pakken"),
        "cartons": ("colli", "colli"),
        "l": ("liter", "liter"),
    },
}
