package sampleorg

// Name pools in several scripts. Each entry carries an ASCII form used for
// e-mail local parts, since real orgs romanise addresses.
type nameEntry struct{ native, ascii string }

type namePool struct {
	first, last []nameEntry
	familyFirst bool // CJK order: family name first, no space
}

var pools = []namePool{
	{first: []nameEntry{{"Anna", "anna"}, {"James", "james"}, {"Olivia", "olivia"}, {"Liam", "liam"}, {"Emma", "emma"}, {"Noah", "noah"}, {"Grace", "grace"}, {"Oscar", "oscar"}},
		last: []nameEntry{{"Smith", "smith"}, {"Johnson", "johnson"}, {"Brown", "brown"}, {"O'Neil", "oneil"}, {"Taylor", "taylor"}, {"Walker", "walker"}, {"Baker", "baker"}}},
	{first: []nameEntry{{"José", "jose"}, {"Zoë", "zoe"}, {"François", "francois"}, {"Søren", "soren"}, {"Ågot", "agot"}, {"Łukasz", "lukasz"}, {"Jürgen", "jurgen"}, {"Inés", "ines"}},
		last: []nameEntry{{"Müller", "muller"}, {"Núñez", "nunez"}, {"Dvořák", "dvorak"}, {"Ørsted", "orsted"}, {"Gonçalves", "goncalves"}, {"Škoda", "skoda"}, {"Lefèvre", "lefevre"}}},
	{first: []nameEntry{{"Дмитрий", "dmitry"}, {"Анна", "anna"}, {"Сергей", "sergey"}, {"Ольга", "olga"}, {"Иван", "ivan"}},
		last: []nameEntry{{"Иванов", "ivanov"}, {"Петрова", "petrova"}, {"Смирнов", "smirnov"}, {"Кузнецова", "kuznetsova"}}},
	{first: []nameEntry{{"Γιώργος", "giorgos"}, {"Μαρία", "maria"}, {"Νίκος", "nikos"}, {"Ελένη", "eleni"}},
		last: []nameEntry{{"Παπαδόπουλος", "papadopoulos"}, {"Οικονόμου", "oikonomou"}, {"Γεωργίου", "georgiou"}}},
	{first: []nameEntry{{"太郎", "taro"}, {"花子", "hanako"}, {"伟", "wei"}, {"秀英", "xiuying"}, {"민준", "minjun"}},
		last:        []nameEntry{{"山田", "yamada"}, {"佐藤", "sato"}, {"王", "wang"}, {"李", "li"}, {"김", "kim"}},
		familyFirst: true},
	{first: []nameEntry{{"محمد", "mohammed"}, {"فاطمة", "fatima"}, {"علي", "ali"}, {"ليلى", "layla"}},
		last: []nameEntry{{"الحسن", "alhassan"}, {"العلي", "alali"}, {"منصور", "mansour"}}},
}

// poolWeights: mostly Latin, then diacritics, then the other scripts.
var poolWeights = []int{50, 22, 9, 6, 8, 5}

var emojis = []string{"🙂", "🎉", "🚀", "☕", "🌻"}

var companyStems = []string{"Contoso", "Fabrikam", "Northwind", "Tailspin", "Wide World", "Litware", "Adatum",
	"Proseware", "Fourth Coffee", "Alpine Ski", "Margie's Travel", "Bellows College", "Trey Research",
	"Coho Winery", "Lucerne Publishing", "Woodgrove", "Müller & Söhne", "Østfold Energi", "Café Lumière",
	"株式会社サクラ", "ООО Ромашка", "Αθηνά Λογισμικό", "شركة النخيل"}

var companySuffixes = []string{"Ltd", "Inc.", "GmbH", "LLC", "S.A.", "plc", "Group", "", ""}

var cities = []struct{ city, country string }{{"Seattle", "United States"}, {"London", "United Kingdom"},
	{"München", "Germany"}, {"São Paulo", "Brazil"}, {"Kraków", "Poland"}, {"Tokyo", "Japan"},
	{"Москва", "Russia"}, {"Αθήνα", "Greece"}, {"Dubai", "United Arab Emirates"}, {"Lyon", "France"}}

var domains = []string{"example.com", "example.org", "mail.example.net", "contoso.example", "fabrikam.example"}

var caseTopics = []string{"Printer jam on floor %d", "Cannot log in to portal", "Invoice #%d shows wrong amount",
	"Refund request for order %d", "Delivery delayed", "Password reset not arriving", "App crashes on start",
	"Wrong item shipped (order %d)", "Upgrade plan question", "Data export fails with error %d",
	"Ошибка при оплате", "Facture incorrecte", "Lieferung beschädigt", "ログインできません", "Πρόβλημα σύνδεσης"}

var agentNames = []nameEntry{{"Alex Rivera", "alex.rivera"}, {"Priya Natarajan", "priya.natarajan"},
	{"Tomás Álvarez", "tomas.alvarez"}, {"Mei Chen", "mei.chen"}, {"Jonas Berg", "jonas.berg"},
	{"Fatou Diallo", "fatou.diallo"}, {"Sam O'Brien", "sam.obrien"}, {"Kateřina Nováková", "katerina.novakova"},
	{"Hiroshi Tanaka", "hiroshi.tanaka"}, {"Lena Fischer", "lena.fischer"}, {"Omar Haddad", "omar.haddad"}}

var queueNames = []string{"Tier 1 Support", "Billing", "Escalations", "VIP Customers", "Returns", "Technical Support", "Onboarding"}
