/// The words the generated records are made of: Wikipedia pages, user agents, hosts, handles.
enum Vocabulary {
    struct Page: Sendable {
        /// The title as it appears in the page's id (`Climate_change`, `Малярия`).
        let title: String
        /// The title percent-encoded for the page URL.
        let urlTitle: String
        /// The title with spaces, for `meta.title`.
        let displayTitle: String

        init(_ title: String) {
            self.title = title
            var encoded = ""
            for byte in title.utf8 {
                if byte < 0x80 {
                    encoded.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    encoded += "%" + String(byte >> 4, radix: 16, uppercase: true)
                        + String(byte & 0xF, radix: 16, uppercase: true)
                }
            }
            urlTitle = encoded
            displayTitle = String(title.map { $0 == "_" ? " " : $0 })
        }
    }

    struct Language: Sendable {
        let code: String
        /// Cumulative weight in [0, 1].
        let upTo: Double
        let pages: [Page]
    }

    /// Wikipedias by share of references (English most), each with its pages.
    static let languages: [Language] = {
        let table: [(String, Double, [String])] = [
            ("en", 0.60, englishPages),
            ("de", 0.10, [
                "Malaria", "Klimawandel", "Impfung", "Antibiotikaresistenz", "Photosynthese", "Genom",
                "Alzheimer-Krankheit", "Tuberkulose", "Biodiversität", "Mikrobiom", "Quantencomputer",
                "Coronavirus", "Neuron", "Evolution", "Krebs_(Medizin)", "Plattentektonik",
            ]),
            ("fr", 0.08, [
                "Paludisme", "Réchauffement_climatique", "Vaccination", "Résistance_aux_antibiotiques",
                "Photosynthèse", "Génome", "Maladie_d'Alzheimer", "Tuberculose", "Biodiversité", "Microbiote",
                "Évolution_(biologie)", "Cancer", "Neurone", "Tectonique_des_plaques",
            ]),
            ("es", 0.06, [
                "Malaria", "Calentamiento_global", "Vacuna", "Resistencia_a_antibióticos", "Fotosíntesis",
                "Genoma", "Enfermedad_de_Alzheimer", "Tuberculosis", "Biodiversidad", "Microbiota",
            ]),
            ("pt", 0.05, [
                "Malária", "Aquecimento_global", "Vacina", "Fotossíntese", "Genoma", "Tuberculose",
                "Biodiversidade", "Doença_de_Alzheimer",
            ]),
            ("it", 0.04, [
                "Malaria", "Riscaldamento_globale", "Vaccino", "Fotosintesi", "Genoma", "Tubercolosi",
                "Biodiversità", "Morbo_di_Alzheimer",
            ]),
            ("ja", 0.04, [
                "マラリア", "地球温暖化", "ワクチン", "光合成", "ゲノム", "結核", "生物多様性", "アルツハイマー型認知症",
            ]),
            ("ru", 0.03, [
                "Малярия", "Глобальное_потепление", "Вакцина", "Фотосинтез", "Геном", "Туберкулёз",
                "Биоразнообразие", "Болезнь_Альцгеймера",
            ]),
        ]
        var cumulative = 0.0
        return table.enumerated().map { index, entry in
            cumulative += entry.1
            return Language(
                code: entry.0, upTo: index == table.count - 1 ? 1 : cumulative, pages: entry.2.map(Page.init))
        }
    }()

    private static let englishPages: [String] = [
        "Malaria", "Climate_change", "Vaccine", "Antimicrobial_resistance", "Photosynthesis", "Genome",
        "Alzheimer's_disease", "Tuberculosis", "Biodiversity", "Human_microbiome", "Quantum_computing",
        "COVID-19", "Neuron", "Evolution", "Cancer", "Plate_tectonics", "CRISPR_gene_editing", "Obesity",
        "Dengue_fever", "Zika_virus", "Ebola", "HIV/AIDS", "Influenza", "Measles", "Cholera", "Sepsis",
        "Insulin", "Type_2_diabetes", "Hypertension", "Stroke", "Asthma", "Depression_(mood)", "Autism",
        "Schizophrenia", "Sleep", "Circadian_rhythm", "Gut_microbiota", "Probiotic", "Coral_reef",
        "Ocean_acidification", "Deforestation", "Amazon_rainforest", "Honey_bee", "Pollination",
        "Colony_collapse_disorder", "Invasive_species", "Extinction", "Dinosaur", "Tyrannosaurus",
        "Archaeopteryx", "Homo_naledi", "Neanderthal", "Denisovan", "Human_evolution", "Ancient_DNA",
        "Epigenetics", "DNA_methylation", "Stem_cell", "Induced_pluripotent_stem_cell", "Organoid",
        "Placebo", "Randomized_controlled_trial", "Meta-analysis", "Replication_crisis", "P-value",
        "Open_access", "Peer_review", "Preprint", "Citation_impact", "Altmetrics", "Machine_learning",
        "Deep_learning", "Protein_folding", "AlphaFold", "Exoplanet", "Dark_matter", "Gravitational_wave",
        "Black_hole", "Fast_radio_burst", "Solar_cell", "Perovskite_solar_cell", "Lithium-ion_battery",
        "Graphene", "Microplastics", "Air_pollution", "Particulates", "Ozone_depletion", "Permafrost",
        "Sea_level_rise", "El_Niño–Southern_Oscillation", "Drought", "Wildfire", "Soil_carbon",
        "Nitrogen_fixation", "Rice", "Wheat", "Cassava", "Aquaculture", "Overfishing", "Antibiotic",
        "Penicillin", "Bacteriophage", "Phage_therapy", "Malaria_vaccine", "Mosquito", "Anopheles",
        "Plasmodium_falciparum", "Artemisinin", "Neglected_tropical_diseases", "Schistosomiasis",
        "Leishmaniasis", "Chagas_disease", "Yellow_fever", "Rabies", "Tick-borne_disease", "Lyme_disease",
    ]

    static func language(at u: Double) -> Language {
        for language in languages where u < language.upTo { return language }
        return languages[languages.count - 1]
    }

    /// Browsers: none of these matches the COUNTER-Robots list.
    static let humanAgents: [String] = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    ]

    /// Crawlers and scripts: each matches the COUNTER-Robots list (bot, spider, python, curl/, Wget, Scrapy/, axios/, yandex, ...).
    static let robotAgents: [String] = [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Wget/1.21.4",
        "Scrapy/2.11.2 (+https://scrapy.org)",
        "axios/1.7.7",
    ]

    static let accessHosts: [String] = ["web-1", "web-2", "web-3", "web-4"]

    static let handleWords: [String] = [
        "ecolab", "drkim", "sciencenews", "marinebio", "epi_jane", "neurojournal", "openaccess", "labnotes",
        "phdlife", "climatedesk", "virologist", "datasci", "histmed", "plantcell", "astro_amy", "medrxiv_watch",
    ]

    static let hypothesisUsers: [String] = [
        "acct:reader@hypothes.is", "acct:jsmith@hypothes.is", "acct:journalclub@hypothes.is",
        "acct:pubpeer_mirror@hypothes.is", "acct:mlopez@hypothes.is", "acct:sciwriter@hypothes.is",
    ]

    /// Crossref Event Data sources that say something about a work (`discusses`).
    static let discussionSites: [(sourceID: String, urlPrefix: String)] = [
        ("reddit", "https://www.reddit.com/r/science/comments/"),
        ("reddit-links", "https://www.reddit.com/r/medicine/comments/"),
        ("newsfeed", "https://blogs.example-news.org/posts/"),
        ("wordpressdotcom", "https://labnotes.wordpress.com/2025/"),
        ("stackexchange", "https://biology.stackexchange.com/questions/"),
    ]

    static let base32: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let tidAlphabet: [UInt8] = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)
    static let base64URL: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let lowerAlphanumeric: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
}
