/// Word lists the generator draws from: realistic, and deliberately nasty (accents, CJK, emoji, apostrophes,
/// commas, quotes) so clients' CSV and COPY paths meet them.
enum GeneratorWords {
    static let firstNames = [
        "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
        "José", "Zoë", "Łukasz", "Søren", "François", "Aoife", "Nguyễn", "Björk", "Chloé", "Mateo", "Amélie",
        "王", "さくら", "Олег", "محمد", "Anne-Marie", "D'Arcy", "Jean \"JJ\"", "Ana María", "Siobhán",
    ]
    static let lastNames = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "O'Brien", "Müller", "García-López", "van der Berg", "Smith, Jr.", "Nakamura", "Østergaard", "Dubois",
        "Kowalski", "李", "Иванов", "Ó Súilleabháin", "D\"Angelo", "St. John", "Brontë", "Nuñez", "Zhang 🐼",
    ]
    static let cities = [
        "San Francisco", "New York", "London", "Paris", "München", "São Paulo", "Zürich", "Tōkyō", "Montréal",
        "Kraków", "Reykjavík", "Winston-Salem", "Coeur d'Alene", "Washington, D.C.",
    ]
    static let states = ["CA", "NY", "TX", "WA", "Île-de-France", "Bayern", "QC", "ON", "NSW", "Tōkyō-to"]
    static let countries = [
        "United States", "USA", "United Kingdom", "France", "Germany", "Brazil", "Japan", "Canada", "Poland",
        "Côte d'Ivoire", "Türkiye",
    ]
    static let titles = [
        "CEO", "CFO", "VP, Sales", "Director of Engineering", "Sales Rep", "Office \"Hero\"", "Chief Happiness Officer 🎉",
        "Head of IT", "Gérant", "Procurement Manager", "SVP Operations", "Intern",
    ]
    static let departments = ["Sales", "Finance", "Engineering", "R&D", "Marketing", "Legal", "Ops / IT", "Achats"]
    static let companies = [
        "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent",
        "Müller & Söhne", "Société Générale de Test", "株式会社テスト", "O'Reilly Widgets", "\"Quoted\" Corp",
        "Comma, Inc.", "Pied Piper", "Vandelay Industries", "Tyrell 🤖",
    ]
    static let companySuffixes = ["Inc.", "LLC", "GmbH", "S.A.", "Ltd", "K.K.", "Holdings", "Group", "& Co."]
    static let words = [
        "lorem", "ipsum", "renewal", "pipeline", "quarterly", "follow-up", "call", "meeting", "budget", "décision",
        "contract", "signed", "pending", "réunion", "escalation", "priority", "résumé", "naïve", "café", "größe",
    ]
    static let streets = ["Main St", "Market Street", "Rue de Rivoli", "Königstraße", "Elm Ave", "Ocean Blvd"]
}
