// Word pools and schema-driven value drawing for the synthetic data generators.
#include "data/gen_values.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "chat/json_schema.h"
#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;

size_t pick(Rng& rng, size_t n) {
  TSFT_CHECK(n > 0);
  return static_cast<size_t>(rng.next_u64() % n);  // bias below 2^-50 for the sizes used here
}

bool chance(Rng& rng, double p) {
  return rng.uniform() < p;
}

namespace {

#define POOL(name, ...) const std::vector<std::string> name = {__VA_ARGS__};

POOL(kCities, "Paris", "London", "Tokyo", "New York", "Berlin", "Madrid", "Rome", "Sydney",
     "Toronto", "Chicago", "Mumbai", "Cairo", "Nairobi", "Lima", "Bogota", "Seoul", "Bangkok",
     "Istanbul", "Moscow", "Dublin", "Lisbon", "Vienna", "Prague", "Warsaw", "Oslo", "Stockholm",
     "Helsinki", "Copenhagen", "Amsterdam", "Brussels", "Zurich", "Athens", "Buenos Aires",
     "Mexico City", "San Francisco", "Seattle", "Boston", "Denver", "Miami", "Austin", "Vancouver",
     "Montreal", "Cape Town", "Lagos", "Singapore", "Hong Kong", "Shanghai", "Jakarta", "Manila",
     "Auckland", "Reykjavik", "Edinburgh", "Marseille", "Munich", "Kyoto")
POOL(kCountries, "France", "Japan", "Brazil", "Canada", "Kenya", "India", "Germany", "Mexico",
     "Australia", "Norway", "Egypt", "Peru", "Spain", "Italy", "Chile", "Vietnam")
POOL(kTasks, "call the dentist", "buy milk", "water the plants", "pay the electricity bill",
     "pick up the kids", "submit the expense report", "renew my passport", "book a haircut",
     "send mom a birthday card", "take out the trash", "back up my laptop", "walk the dog",
     "call the bank", "return the library books", "prepare the slides", "feed the cat",
     "check the oil in the car", "cancel the gym membership", "order printer ink",
     "review the contract", "buy a gift for Sam", "schedule the team meeting", "clean the fridge",
     "pay rent", "take my medication", "file my taxes", "pack for the trip", "call the plumber",
     "update my resume", "confirm the dinner reservation", "stretch", "send the invoice",
     "charge the car", "reply to Maria", "defrost the chicken", "pick up the dry cleaning",
     "practice piano", "check in for my flight")
POOL(kTopics, "electric cars", "the history of the Roman empire", "best hiking trails in Utah",
     "how to bake sourdough bread", "quantum computing basics", "climate change policy",
     "the latest smartphone reviews", "healthy breakfast ideas", "learning Python",
     "the James Webb telescope", "remote work productivity", "the World Cup results",
     "cheap flights to Lisbon", "how vaccines work", "the stock market today",
     "renewable energy jobs", "ancient Egyptian pyramids", "meditation for beginners",
     "how to fix a leaky faucet", "the best sci-fi novels", "machine learning courses",
     "vegan protein sources", "the Mars rover mission", "home workout routines",
     "tax deadlines this year", "how to start a podcast", "the Olympic games", "coral reefs",
     "coffee brewing methods", "the French revolution", "indoor plants that need little light",
     "how solar panels work", "budget travel tips", "open source licenses",
     "the tallest buildings in the world", "how to learn a language fast", "jazz history",
     "chess openings for beginners", "the housing market", "tips for better sleep")
// English sentences with their translations (target languages of the built-in translate tool),
// so a multi-turn row's tool result is a real translation.
struct Phrase {
  const char* en;
  const char* es;
  const char* fr;
  const char* de;
  const char* it;
  const char* pt;
};
const Phrase kPhrases[] = {
    {"Good morning", "Buenos días", "Bonjour", "Guten Morgen", "Buongiorno", "Bom dia"},
    {"Thank you very much", "Muchas gracias", "Merci beaucoup", "Vielen Dank", "Grazie mille",
     "Muito obrigado"},
    {"Where is the train station?", "¿Dónde está la estación de tren?", "Où est la gare ?",
     "Wo ist der Bahnhof?", "Dov'è la stazione?", "Onde fica a estação de trem?"},
    {"How much does this cost?", "¿Cuánto cuesta esto?", "Combien ça coûte ?",
     "Wie viel kostet das?", "Quanto costa questo?", "Quanto custa isto?"},
    {"I would like a coffee", "Me gustaría un café", "Je voudrais un café",
     "Ich hätte gern einen Kaffee", "Vorrei un caffè", "Eu gostaria de um café"},
    {"See you tomorrow", "Hasta mañana", "À demain", "Bis morgen", "A domani", "Até amanhã"},
    {"Happy birthday", "Feliz cumpleaños", "Joyeux anniversaire", "Alles Gute zum Geburtstag",
     "Buon compleanno", "Feliz aniversário"},
    {"I don't understand", "No entiendo", "Je ne comprends pas", "Ich verstehe nicht",
     "Non capisco", "Eu não entendo"},
    {"Where is the bathroom?", "¿Dónde está el baño?", "Où sont les toilettes ?",
     "Wo ist die Toilette?", "Dov'è il bagno?", "Onde fica o banheiro?"},
    {"The bill, please", "La cuenta, por favor", "L'addition, s'il vous plaît",
     "Die Rechnung, bitte", "Il conto, per favore", "A conta, por favor"},
    {"Nice to meet you", "Mucho gusto", "Enchanté", "Freut mich", "Piacere di conoscerti",
     "Prazer em conhecê-lo"},
    {"I love this city", "Me encanta esta ciudad", "J'adore cette ville", "Ich liebe diese Stadt",
     "Amo questa città", "Eu amo esta cidade"},
    {"What time is it?", "¿Qué hora es?", "Quelle heure est-il ?", "Wie spät ist es?",
     "Che ore sono?", "Que horas são?"},
    {"Good night", "Buenas noches", "Bonne nuit", "Gute Nacht", "Buona notte", "Boa noite"},
    {"Can you help me?", "¿Puede ayudarme?", "Pouvez-vous m'aider ?", "Können Sie mir helfen?",
     "Può aiutarmi?", "Pode me ajudar?"},
    {"I am hungry", "Tengo hambre", "J'ai faim", "Ich habe Hunger", "Ho fame", "Estou com fome"},
    {"The weather is beautiful today", "Hace un tiempo precioso hoy",
     "Il fait très beau aujourd'hui", "Das Wetter ist heute schön", "Oggi il tempo è bellissimo",
     "O tempo está lindo hoje"},
    {"I need a taxi", "Necesito un taxi", "J'ai besoin d'un taxi", "Ich brauche ein Taxi",
     "Ho bisogno di un taxi", "Preciso de um táxi"},
    {"Congratulations on your new job", "Felicidades por tu nuevo trabajo",
     "Félicitations pour ton nouveau travail", "Glückwunsch zum neuen Job",
     "Congratulazioni per il nuovo lavoro", "Parabéns pelo novo emprego"},
    {"My flight is delayed", "Mi vuelo está retrasado", "Mon vol est retardé",
     "Mein Flug hat Verspätung", "Il mio volo è in ritardo", "Meu voo está atrasado"},
};
// Things people type into a search box as plain questions, with no "search" or "look up" in
// them: how-to, facts, people, places, products, local information, troubleshooting.
POOL(kQuestions, "how long should I boil an egg for a runny yolk", "who won the last Tour de France",
     "what time does the Louvre close on Fridays", "how many calories are in an avocado",
     "when was the Golden Gate Bridge built",
     "what is the difference between a crocodile and an alligator",
     "how do I reset a frozen iPhone", "is it safe to eat raw cookie dough",
     "which airlines fly direct from Toronto to Reykjavik", "what are the symptoms of low iron",
     "best budget noise cancelling headphones", "why is my sourdough starter not rising",
     "who wrote One Hundred Years of Solitude", "how to change a bike tire",
     "what is the capital of Mongolia", "how much does a Tesla Model Y cost",
     "where can I recycle old batteries in Chicago", "how do you tie a bowline knot",
     "is the Brooklyn Museum open on Mondays", "what causes hiccups",
     "how tall is Mount Kilimanjaro", "what are the rules of pickleball",
     "which laptop is better for video editing", "how to get rid of fruit flies",
     "what's the best way to learn Japanese", "how do I unclog a shower drain",
     "who is the current CEO of Microsoft", "what year did the Berlin Wall fall",
     "how to renew a passport in the UK", "why does my dishwasher smell", "what is a Roth IRA",
     "how does compound interest work", "where does the Danube river start",
     "good stretches for lower back pain", "how to make cold brew at home",
     "what movies are showing in Denver this weekend", "reviews of the new Kia EV9",
     "how many players are on a rugby team", "what is the fastest land animal",
     "how to remove a stripped screw", "how to keep basil alive indoors",
     "what happened at the UN climate summit", "how to write a cover letter",
     "which vitamins should vegans take", "what does a product manager do",
     "how to jump start a car", "symptoms of a sprained ankle",
     "how long is the flight from London to Tokyo", "why is the sky blue",
     "best pizza places in Naples", "how many moons does Jupiter have",
     "how do I cancel my Netflix subscription",
     "difference between baking soda and baking powder", "is the M25 closed tonight",
     "train times from Leeds to York on Sunday", "what does GDPR mean for a small shop",
     "lyrics of Bohemian Rhapsody", "how old is Keanu Reeves", "when does the Apple store in Soho open",
     "can dogs eat grapes", "what's the plot of Dune part two", "why won't my laptop charge")
POOL(kSubjects, "Meeting tomorrow", "Quarterly report", "Lunch on Friday?", "Project update",
     "Invoice 4471", "Weekend plans", "Welcome aboard", "Flight details", "Quick question",
     "Budget review", "Happy birthday!", "Contract draft", "Team offsite", "Schedule change",
     "Thank you", "Follow-up from our call", "Vacation request", "Design feedback",
     "Server maintenance", "New hire onboarding", "Book club", "Dinner reservation",
     "Rent reminder", "Conference tickets", "Bug report", "Holiday party", "Course materials")
POOL(kBodies, "The meeting is moved to 3 pm.", "Please find the report attached.",
     "Can we push our call to next week?", "Thanks for your help yesterday!",
     "I'll be out of office until Monday.", "Let me know if the new draft works for you.",
     "Dinner is at 7, see you there.", "The server will be down for an hour tonight.",
     "Could you review the slides before Thursday?", "Great job on the launch!",
     "I've booked the conference room for 10 am.", "Your package was delivered.",
     "Please confirm your attendance by Friday.", "I'm running 15 minutes late.",
     "Here are the notes from today's meeting.", "The invoice is due at the end of the month.",
     "Happy birthday, have a wonderful day!", "Can you send me the latest numbers?",
     "We need to reschedule the interview.", "The tickets are booked, we leave at 8.",
     "Welcome to the team, glad to have you.", "I fixed the bug you reported.",
     "Let's meet at the cafe near the station.", "The contract looks good to me.")
POOL(kFirstNames, "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
     "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "wendy",
     "yusuf", "zoe", "maria", "kenji", "priya", "omar", "lena", "diego", "fatima")
POOL(kLastNames, "smith", "jones", "garcia", "chen", "patel", "kim", "muller", "rossi", "silva",
     "nguyen", "okafor", "larsen", "dubois", "novak")
POOL(kDomains, "example.com", "mail.com", "work.org", "company.io", "school.edu")
POOL(kLanguages, "Spanish", "French", "German", "Italian", "Portuguese", "Japanese", "Korean",
     "Chinese", "Arabic", "Russian", "Dutch", "Swedish", "Hindi", "Turkish", "Greek")
POOL(kCurrencies, "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "INR", "BRL", "MXN")
POOL(kAdjectives, "blue", "quick", "quiet", "bright", "small", "ancient", "modern", "golden",
     "green", "spare", "daily", "shared", "weekly", "main", "old", "new")
POOL(kNouns, "notebook", "garden", "report", "project", "kitchen", "budget", "playlist", "account",
     "folder", "ticket", "journey", "recipe", "meeting", "order", "list", "plan")
// Values for common kinds of parameter that people name the same way everywhere (a recipe
// search's "ingredients", a stock tool's "symbol"), so a tool without examples gets requests
// that read like a person's rather than "ingredients: new meeting".
POOL(kFoods, "chicken", "rice", "broccoli", "tomatoes", "eggs", "spinach", "salmon", "potatoes",
     "garlic", "mushrooms", "tofu", "lentils", "beef", "pasta", "onions", "cheese", "avocado",
     "bell peppers", "chickpeas", "shrimp", "carrots", "oats", "apples", "zucchini")
POOL(kCuisines, "Italian", "Mexican", "Indian", "Thai", "Japanese", "Chinese", "French", "Greek",
     "Korean", "Spanish", "Lebanese", "Vietnamese", "Ethiopian", "Turkish")
POOL(kGenres, "comedy", "drama", "thriller", "science fiction", "romance", "horror", "mystery",
     "fantasy", "documentary", "animation", "jazz", "rock", "classical", "hip hop", "biography")
POOL(kDiets, "vegetarian", "vegan", "gluten-free", "keto", "dairy-free", "low-carb", "paleo",
     "nut-free", "pescatarian", "low-sodium")
POOL(kTickers, "AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA", "META", "NFLX", "IBM", "ORCL",
     "INTC", "AMD", "DIS", "KO", "JPM", "V")
POOL(kCategories, "technology", "sports", "business", "health", "science", "entertainment",
     "politics", "travel", "finance", "education", "world", "lifestyle")
POOL(kProducts, "wireless headphones", "coffee maker", "running shoes", "laptop stand",
     "desk lamp", "yoga mat", "water bottle", "backpack", "phone charger", "electric kettle",
     "mechanical keyboard", "winter jacket", "bluetooth speaker", "office chair")
POOL(kStreets, "Oak Street", "Maple Avenue", "Elm Road", "Park Lane", "High Street",
     "Cedar Drive", "Lakeview Boulevard", "Church Road", "Mill Lane", "Station Road")
POOL(kSongs, "Yellow Submarine", "Dancing Queen", "Purple Rain", "Wonderwall", "Clocks",
     "Blinding Lights", "Rolling in the Deep", "Shape of You", "Smells Like Teen Spirit",
     "Sweet Caroline", "Africa", "Take On Me", "Respect", "Halo")
POOL(kArtists, "ABBA", "Prince", "Oasis", "Coldplay", "The Weeknd", "Adele", "Ed Sheeran",
     "Nirvana", "Toto", "a-ha", "Aretha Franklin", "Beyonce", "Fleetwood Mac", "Stevie Wonder")
POOL(kGrades, "A", "A-", "B+", "B", "B-", "C+", "C", "D")
POOL(kShapes, "circle", "rectangle", "triangle", "square")
POOL(kAirlines, "BA", "LH", "AF", "UA", "DL", "AA", "EK", "KL", "QF", "SQ")
POOL(kMonths, "January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December")
#undef POOL

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The name's words, lowercased: "target_language" -> {"target", "language"}; camelCase splits.
std::vector<std::string> words_of(const std::string& name) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    if (c == '_' || c == '-' || c == '.' || c == ' ' || (upper && !cur.empty())) {
      if (!cur.empty()) out.push_back(lower(cur));
      cur.clear();
      if (!upper) continue;
    }
    cur += c;
  }
  if (!cur.empty()) out.push_back(lower(cur));
  return out;
}

bool has_word(const std::vector<std::string>& words, std::initializer_list<const char*> keys) {
  for (const auto& w : words)
    for (const char* k : keys)
      if (w == k) return true;
  return false;
}

const std::string& any(Rng& rng, const std::vector<std::string>& pool) {
  return pool[pick(rng, pool.size())];
}

std::string two_digits(int v) {
  return v < 10 ? "0" + std::to_string(v) : std::to_string(v);  // v is 0..59
}

std::string draw_date(Rng& rng) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int year = 2025 + static_cast<int>(pick(rng, 3));  // 2025-2027, none a leap year
  const int month = 1 + static_cast<int>(pick(rng, 12));
  const int day = 1 + static_cast<int>(pick(rng, kDays[month - 1]));
  return str(year, "-", two_digits(month), "-", two_digits(day));
}

std::string draw_time(Rng& rng) {
  // Mostly waking hours and round minutes, as people ask.
  const int hour = 6 + static_cast<int>(pick(rng, 17));
  static const int kMinutes[] = {0, 0, 15, 30, 45, 10, 20, 40, 50, 5};
  return two_digits(hour) + ":" + two_digits(pick_from(rng, kMinutes, 10));
}

std::string draw_email(Rng& rng) {
  const std::string first = any(rng, kFirstNames);
  if (chance(rng, 0.5)) return first + "@" + any(rng, kDomains);
  return first + "." + any(rng, kLastNames) + "@" + any(rng, kDomains);
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// An arithmetic expression eval_arithmetic can evaluate; operands keep results readable.
std::string draw_expression(Rng& rng) {
  auto operand = [&]() -> std::string {
    switch (pick(rng, 6)) {
      case 0:
        return std::to_string(2 + pick(rng, 9));
      case 1:
        return std::to_string(10 + pick(rng, 90));
      case 2:
        return std::to_string(100 + pick(rng, 900));
      case 3: {
        const size_t r = 2 + pick(rng, 14);
        return str("sqrt(", r * r, ")");
      }
      case 4:
        return format_number(static_cast<double>(pick(rng, 1000)) / 10.0 + 0.5, 1);
      default:
        return std::to_string(1 + pick(rng, 50));
    }
  };
  static const char* kOps[] = {" + ", " - ", " * ", " / "};
  std::string expr = operand();
  const size_t terms = 1 + pick(rng, 3);
  for (size_t i = 0; i < terms; ++i) {
    const std::string op = pick_from(rng, kOps, 4);
    std::string rhs = operand();
    if (op == " / " && rhs == "0") rhs = "4";
    if (chance(rng, 0.2)) rhs = "(" + rhs + pick_from(rng, kOps, 2) + operand() + ")";
    expr += op + rhs;
  }
  if (chance(rng, 0.1)) expr = "(" + expr + ") ^ 2";
  return expr;
}

// A string for a parameter of this name, before the schema's own constraints are applied.
std::string pool_string(const std::string& name, const ordered_json& schema, Rng& rng) {
  const std::string format = schema.value("format", std::string());
  if (format == "date") return draw_date(rng);
  if (format == "date-time") return draw_date(rng) + "T" + draw_time(rng) + ":00Z";
  const auto w = words_of(name);
  // "to" alone is a recipient; "to_currency" or "to_unit" is not.
  if (has_word(w, {"email", "emails", "mail", "recipient", "recipients", "cc", "bcc"}) ||
      (w.size() == 1 && w[0] == "to"))
    return draw_email(rng);
  if (has_word(w, {"city", "town", "location", "place", "destination", "origin"}))
    return any(rng, kCities);
  if (has_word(w, {"country"})) return any(rng, kCountries);
  // Kinds of thing a person names (not "product_id": an identifier reads as one).
  if (!has_word(w, {"id", "identifier", "code"})) {
    if (has_word(w, {"ingredient", "ingredients", "food", "foods", "dish", "meal"}))
      return any(rng, kFoods);
    if (has_word(w, {"cuisine", "cuisines"})) return any(rng, kCuisines);
    if (has_word(w, {"genre", "genres"})) return any(rng, kGenres);
    if (has_word(w, {"diet", "dietary", "restriction", "restrictions"})) return any(rng, kDiets);
    if (has_word(w, {"symbol", "ticker", "stock"})) return any(rng, kTickers);
    if (has_word(w, {"category", "categories", "section"})) return any(rng, kCategories);
    if (has_word(w, {"product", "products", "item", "items"})) return any(rng, kProducts);
    if (has_word(w, {"address"}))
      return str(1 + pick(rng, 250), " ", any(rng, kStreets), ", ", any(rng, kCities));
    if (has_word(w, {"song", "track"})) return any(rng, kSongs);
    if (has_word(w, {"artist", "band", "singer"})) return any(rng, kArtists);
    if (has_word(w, {"grade", "grades"})) return any(rng, kGrades);
    if (has_word(w, {"shape"})) return any(rng, kShapes);
    if (has_word(w, {"password", "passphrase"})) {
      static const char kChars[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#$%";
      std::string pw;
      const size_t n = 10 + pick(rng, 5);
      for (size_t i = 0; i < n; ++i) pw += kChars[pick(rng, sizeof kChars - 1)];
      return pw;
    }
    if (has_word(w, {"tracking"})) return str("1Z", 100000000 + pick(rng, 900000000));
    if (has_word(w, {"flight"})) return str(any(rng, kAirlines), 100 + pick(rng, 9000));
    if (has_word(w, {"phone", "mobile", "telephone"}))
      return str("+1 555 ", 100 + pick(rng, 900), " ", 1000 + pick(rng, 9000));
    if (has_word(w, {"number", "num", "no"}) && w[0] != "number") {  // "invoice_number"
      std::string prefix = w[0].substr(0, 3);
      for (char& c : prefix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return str(prefix, "-", 1000 + pick(rng, 9000));
    }
  }
  if (has_word(w, {"expression", "formula", "equation", "math"})) return draw_expression(rng);
  if (has_word(w, {"task", "todo", "reminder", "chore"})) return any(rng, kTasks);
  if (has_word(w, {"query", "search", "topic", "topics", "keyword", "keywords", "q", "term"}))
    return chance(rng, 0.4) ? any(rng, kQuestions) : any(rng, kTopics);
  if (has_word(w, {"text", "sentence", "phrase", "utterance"}))
    return kPhrases[pick(rng, std::size(kPhrases))].en;
  if (has_word(w, {"subject", "headline", "title"})) return any(rng, kSubjects);
  if (has_word(w, {"body", "message", "content", "comment", "note", "notes", "description"}))
    return any(rng, kBodies);
  if (has_word(w, {"language", "lang", "locale"})) return any(rng, kLanguages);
  if (has_word(w, {"name", "person", "contact", "user", "username", "author", "assignee"}))
    return capitalized(any(rng, kFirstNames)) + " " + capitalized(any(rng, kLastNames));
  if (has_word(w, {"time", "hour"})) return draw_time(rng);
  if (has_word(w, {"date", "day", "deadline"})) return draw_date(rng);
  if (has_word(w, {"url", "link", "website", "site"}))
    return "https://" + any(rng, kDomains) + "/" + any(rng, kNouns);
  if (has_word(w, {"currency"})) return any(rng, kCurrencies);
  if (has_word(w, {"id", "identifier", "code"}))
    return str(lower(any(rng, kNouns)).substr(0, 3), "-", 1000 + pick(rng, 9000));
  return any(rng, kAdjectives) + " " + any(rng, kNouns);
}

// Default ranges by parameter name, narrowed to the schema's bounds.
void number_range(const std::string& name, bool integer, double* lo, double* hi, int* decimals) {
  const auto w = words_of(name);
  *decimals = integer ? 0 : 2;
  if (has_word(w, {"lat", "latitude"}))
    *lo = -60, *hi = 70, *decimals = 4;
  else if (has_word(w, {"lon", "lng", "longitude"}))
    *lo = -180, *hi = 180, *decimals = 4;
  else if (has_word(w, {"year"}))
    *lo = 2020, *hi = 2030;
  else if (has_word(w, {"days", "day", "nights"}))
    *lo = 1, *hi = 14;
  else if (has_word(w, {"hour", "hours"}))
    *lo = 0, *hi = 23;
  else if (has_word(w, {"minute", "minutes"}))
    *lo = 0, *hi = 59;
  else if (has_word(w, {"precision", "decimals", "digits"}))
    *lo = 0, *hi = 6;
  else if (has_word(w, {"percent", "percentage"}))
    *lo = 0, *hi = 100;
  else if (has_word(w, {"age"}))
    *lo = 18, *hi = 80;
  else if (has_word(w, {"price", "amount", "cost", "total", "budget"}))
    *lo = 1, *hi = 500;
  else if (has_word(w, {"temperature", "temp"}))
    *lo = -10, *hi = 35, *decimals = 1;
  else if (has_word(w, {"count", "max", "limit", "results", "n", "num", "number", "quantity", "qty",
                        "size", "top"}))
    *lo = 1, *hi = 10;
  else
    *lo = integer ? 1 : 0, *hi = 100;
}

ordered_json draw_number(const ordered_json& schema, const std::string& name, bool integer,
                         Rng& rng, const std::string& where) {
  double lo, hi;
  int decimals;
  number_range(name, integer, &lo, &hi, &decimals);
  double min_b = -1e15, max_b = 1e15;
  if (schema.contains("minimum") && schema["minimum"].is_number())
    min_b = schema["minimum"].get<double>();
  if (schema.contains("maximum") && schema["maximum"].is_number())
    max_b = schema["maximum"].get<double>();
  const double step = integer ? 1.0 : std::pow(10.0, -decimals);
  if (schema.contains("exclusiveMinimum") && schema["exclusiveMinimum"].is_number())
    min_b = std::max(min_b, schema["exclusiveMinimum"].get<double>() + step);
  if (schema.contains("exclusiveMaximum") && schema["exclusiveMaximum"].is_number())
    max_b = std::min(max_b, schema["exclusiveMaximum"].get<double>() - step);
  // Draft 4's boolean spelling makes minimum/maximum themselves exclusive.
  if (schema.value("exclusiveMinimum", ordered_json()) == true) min_b += step;
  if (schema.value("exclusiveMaximum", ordered_json()) == true) max_b -= step;
  if (integer) min_b = std::ceil(min_b), max_b = std::floor(max_b);
  if (min_b > max_b) fail(where, ": no ", integer ? "integer" : "number", " fits its bounds");
  // The name's usual range where it overlaps the schema's, else the schema's own range.
  double a = std::max(lo, min_b), b = std::min(hi, max_b);
  if (a > b) a = min_b, b = std::min(max_b, min_b + 100);
  if (integer) {
    const auto span = static_cast<uint64_t>(b - a) + 1;
    return static_cast<int64_t>(a) + static_cast<int64_t>(rng.next_u64() % span);
  }
  const double scale = std::pow(10.0, decimals);
  double v = std::round((a + rng.uniform() * (b - a)) * scale) / scale;
  v = std::min(std::max(v, a), b);
  return v;
}

}  // namespace

std::string name_words(const std::string& name) {
  std::string out;
  for (char c : name) out += (c == '_' || c == '-' || c == '.') ? ' ' : c;
  return out;
}

LooseDate loose_date(Rng& rng) {
  static const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                "Friday", "Saturday", "Sunday"};
  static const char* kParts[] = {" morning", " afternoon", " evening", " night"};
  static const char* kBare[] = {"tomorrow",       "today",        "tonight",
                                "this weekend",   "next week",    "the day after tomorrow",
                                "in two weeks",   "tomorrow morning", "later today",
                                "at the end of the month", "first thing tomorrow", "in 3 days"};
  static const char* kNth[] = {"st", "nd", "rd"};
  const std::string day = pick_from(rng, kDays, std::size(kDays));
  switch (pick(rng, 6)) {
    case 0:
      return {day, true};
    case 1:
      return {day + pick_from(rng, kParts, std::size(kParts)), true};
    case 2:
      return {(chance(rng, 0.5) ? "next " : "this ") + day, false};
    case 3: {
      const int d = 1 + static_cast<int>(pick(rng, 28));
      const std::string suffix = (d >= 4 && d <= 20) || d % 10 > 3 || d % 10 == 0
                                     ? "th"
                                     : kNth[d % 10 - 1];
      return {str("the ", d, suffix), true};
    }
    case 4: {
      const int d = 1 + static_cast<int>(pick(rng, 28));
      return {str(kMonths[pick(rng, 12)].substr(0, chance(rng, 0.5) ? 3 : 20), " ", d), true};
    }
    default:
      return {pick_from(rng, kBare, std::size(kBare)), false};
  }
}

std::string loose_time(Rng& rng) {
  const int h = 1 + static_cast<int>(pick(rng, 11));
  switch (pick(rng, 5)) {
    case 0:
      return str(h, chance(rng, 0.5) ? " am" : " pm");
    case 1:
      return str(h, ":", chance(rng, 0.5) ? "30" : "15", chance(rng, 0.5) ? "pm" : "");
    case 2:
      return str(h, chance(rng, 0.5) ? " in the morning" : " in the evening");
    case 3:
      return str("half past ", h);
    default:
      return str(h, " o'clock");
  }
}

std::string format_number(double v, int decimals) {
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

namespace {

ordered_json draw_once(const ordered_json& schema, const std::string& name, Rng& rng,
                       const std::string& where) {
  if (!schema.is_object()) return nullptr;  // `true`: anything goes, null is the simplest
  if (schema.contains("const")) return schema["const"];
  if (schema.contains("enum")) return schema["enum"][pick(rng, schema["enum"].size())];
  for (const char* key : {"x-toolsft-values", "examples"})
    if (schema.contains(key) && schema[key].is_array() && !schema[key].empty()) {
      const ordered_json& pool = schema[key];
      const ordered_json v = pool[pick(rng, pool.size())];
      if (validate_json(v, schema, "").empty()) return v;
      fail(where, ".", key, ": value ", v.dump(), " does not fit the parameter's own schema");
    }
  for (const char* key : {"anyOf", "oneOf"})
    if (schema.contains(key)) {
      // A branch's value must satisfy the whole schema too (oneOf: that branch alone).
      for (int tries = 0; tries < 20; ++tries) {
        const ordered_json& sub = schema[key][pick(rng, schema[key].size())];
        ordered_json v = draw_value(sub, name, rng, where);
        if (validate_json(v, schema, "").empty()) return v;
      }
      fail(where, ": cannot draw a value that fits its ", key, " (give x-toolsft-values)");
    }
  std::string type = "string";
  if (schema.contains("type")) {
    if (schema["type"].is_string()) {
      type = schema["type"].get<std::string>();
    } else {
      std::vector<std::string> non_null;  // a union: any non-null member
      for (const auto& t : schema["type"])
        if (t != "null") non_null.push_back(t.get<std::string>());
      type = non_null.empty() ? "null" : non_null[pick(rng, non_null.size())];
    }
  } else if (schema.contains("properties")) {
    type = "object";
  } else if (schema.contains("items")) {
    type = "array";
  }
  if (type == "null") return nullptr;
  if (type == "boolean") return chance(rng, 0.5);
  if (type == "integer" || type == "number")
    return draw_number(schema, name, type == "integer", rng, where);
  if (type == "array") {
    const int64_t lo = schema.value("minItems", int64_t{1});
    const int64_t hi =
        std::max<int64_t>(lo, std::min<int64_t>(schema.value("maxItems", int64_t{3}), lo + 2));
    const int64_t n = lo + static_cast<int64_t>(pick(rng, static_cast<size_t>(hi - lo + 1)));
    const ordered_json items = schema.value("items", ordered_json(true));
    ordered_json out = ordered_json::array();
    for (int tries = 0; static_cast<int64_t>(out.size()) < n && tries < 50; ++tries) {
      ordered_json v = draw_value(items, name, rng, where + "[]");
      // Repeats read oddly in a request ("alice and alice") even where the schema allows them.
      bool repeat = false;
      for (const auto& e : out) repeat = repeat || e == v;
      if (!repeat) out.push_back(std::move(v));
    }
    if (static_cast<int64_t>(out.size()) < lo)
      fail(where, ": cannot draw ", lo, " different items (give x-toolsft-values)");
    return out;
  }
  if (type == "object") {
    ordered_json out = ordered_json::object();
    if (!schema.contains("properties")) return out;
    std::vector<std::string> required;
    if (schema.contains("required"))
      for (const auto& r : schema["required"]) required.push_back(r.get<std::string>());
    for (const auto& [key, sub] : schema["properties"].items()) {
      const bool req = std::find(required.begin(), required.end(), key) != required.end();
      if (req || chance(rng, 0.5)) out[key] = draw_value(sub, key, rng, where + "." + key);
    }
    return out;
  }
  // Strings: pool values until one fits the length, pattern and format constraints; then the
  // other pools, for a pattern the parameter's name did not lead to (a time called "at").
  for (int tries = 0; tries < 64; ++tries) {
    ordered_json v = pool_string(name, schema, rng);
    if (validate_json(v, schema, "").empty()) return v;
  }
  static const char* kOtherPools[] = {"time",  "date",    "email",    "city",     "id",  "name",
                                      "query", "subject", "language", "currency", "url", "country"};
  for (int tries = 0; tries < 8; ++tries)
    for (const char* other : kOtherPools) {
      ordered_json v = pool_string(other, schema, rng);
      if (validate_json(v, schema, "").empty()) return v;
    }
  fail(where,
       ": no generated string fits its schema (pattern/length); list some values under "
       "\"x-toolsft-values\"");
}

}  // namespace

ordered_json draw_value(const ordered_json& schema, const std::string& name, Rng& rng,
                        const std::string& where) {
  // The drawing above follows the common keywords; a schema can still constrain more (allOf, a
  // nested oneOf) than it knows. A few fresh draws, then a user error rather than a bad call.
  std::vector<SchemaProblem> problems;
  for (int tries = 0; tries < 32; ++tries) {  // an optional key a rule needs: 2^-32 to miss
    ordered_json v = draw_once(schema, name, rng, where);
    problems = validate_json(v, schema, "");
    if (problems.empty()) return v;
  }
  fail(where, ": cannot draw a value that fits its schema (", problems[0].path,
       problems[0].path.empty() ? "" : ": ", problems[0].message,
       "); list some values under \"x-toolsft-values\"");
}

std::string render_value(const ordered_json& value, const ordered_json& schema, Rng& rng) {
  const ordered_json& s = schema.is_object() ? schema : ordered_json::object();
  if (value.is_string()) {
    const std::string v = value.get<std::string>();
    const std::string format = s.value("format", std::string());
    // Half the dates read the way people write them; the ISO value stays recoverable.
    if ((format == "date" || format == "date-time") && v.size() >= 10 && chance(rng, 0.5)) {
      const int month = std::stoi(v.substr(5, 2)), day = std::stoi(v.substr(8, 2));
      std::string out = str(kMonths[month - 1], " ", day, ", ", v.substr(0, 4));
      if (format == "date-time" && v.size() >= 16 && v.back() == 'Z')
        out += " at " + v.substr(11, 5) + " UTC";
      else if (format == "date-time")
        return v;
      return out;
    }
    return v;
  }
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_float()) return format_number(value.get<double>(), 6);
  if (value.is_number()) return value.dump();
  if (value.is_array()) {
    const ordered_json items = s.value("items", ordered_json::object());
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) out += (i + 1 == value.size()) ? " and " : ", ";
      out += render_value(value[i], items, rng);
    }
    return out;
  }
  if (value.is_object()) {
    const ordered_json props = s.value("properties", ordered_json::object());
    std::string out;
    for (const auto& [k, v] : value.items()) {
      if (!out.empty()) out += ", ";
      out += name_words(k) + " " +
             render_value(v, props.contains(k) ? props[k] : ordered_json::object(), rng);
    }
    return out;
  }
  return "none";
}

// Recursive descent over the grammar draw_expression writes.
namespace {
struct Arith {
  const std::string& s;
  size_t i = 0;
  bool ok = true;
  void space() {
    while (i < s.size() && s[i] == ' ') ++i;
  }
  double primary() {
    space();
    if (i < s.size() && s[i] == '(') {
      ++i;
      const double v = sum();
      space();
      if (i >= s.size() || s[i] != ')') ok = false;
      ++i;
      return v;
    }
    if (s.compare(i, 5, "sqrt(") == 0) {
      i += 4;
      const double v = primary();
      if (v < 0) ok = false;
      return std::sqrt(std::max(v, 0.0));
    }
    if (i < s.size() && s[i] == '-') {
      ++i;
      return -primary();
    }
    const size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) {
      ok = false;
      return 0;
    }
    return std::stod(s.substr(start, i - start));
  }
  double power() {
    const double base = primary();
    space();
    if (i < s.size() && s[i] == '^') {
      ++i;
      return std::pow(base, power());
    }
    return base;
  }
  double product() {
    double v = power();
    for (space(); ok && i < s.size() && (s[i] == '*' || s[i] == '/'); space()) {
      const char op = s[i++];
      const double rhs = power();
      if (op == '/' && rhs == 0) ok = false;
      v = op == '*' ? v * rhs : (rhs == 0 ? 0 : v / rhs);
    }
    return v;
  }
  double sum() {
    double v = product();
    for (space(); ok && i < s.size() && (s[i] == '+' || s[i] == '-'); space()) {
      const char op = s[i++];
      const double rhs = product();
      v = op == '+' ? v + rhs : v - rhs;
    }
    return v;
  }
};
}  // namespace

std::optional<double> eval_arithmetic(const std::string& expr) {
  Arith a{expr};
  const double v = a.sum();
  a.space();
  if (!a.ok || a.i != expr.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::string> known_translation(const std::string& text, const std::string& lang) {
  for (const Phrase& p : kPhrases) {
    if (text != p.en) continue;
    if (lang == "Spanish") return p.es;
    if (lang == "French") return p.fr;
    if (lang == "German") return p.de;
    if (lang == "Italian") return p.it;
    if (lang == "Portuguese") return p.pt;
    if (lang == "English") return p.en;
  }
  return std::nullopt;
}

}  // namespace tsft
