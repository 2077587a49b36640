// Word tables for the procedural schema space. Wording is kept apart from the hand-written
// evaluation set (tests/data/handwritten): its function names are reserved here and never made.
#include "data/gen_schema_pools.h"

#include <map>

#include "core/error.h"

namespace tsft {

std::vector<std::string> split_bar(const char* s) {
  std::vector<std::string> out(1);
  for (; *s; ++s) {
    if (*s == '|')
      out.emplace_back();
    else
      out.back() += *s;
  }
  return out;
}

namespace {
using K = ValueKind;
}  // namespace

const std::vector<ParamDef>& param_defs() {
  static const std::vector<ParamDef> kDefs = {
      // Free text, quoted.
      {"title", "title|name|headline", "Short title", K::kQuoted, "titled {v}|called {v}|named {v}",
       "titles"},
      {"note", "notes|note|comment", "Free-text note", K::kQuoted,
       "with the note {v}|adding the comment {v}|noting {v}", "notes"},
      {"message", "message|body|text", "Message text", K::kQuoted,
       "saying {v}|with the message {v}|that reads {v}", "messages"},
      {"reason", "reason|cause", "Why, in a few words", K::kQuoted,
       "because {v}|with the reason {v}|giving the reason {v}", "reasons"},
      {"query", "query|search text|keywords", "Search text", K::kQuoted,
       "matching {v}|for {v}|about {v}", "queries"},
      {"summary", "summary|description|details", "What it is about", K::kQuoted,
       "described as {v}|with the summary {v}|about {v}", "summaries"},
      // People and places, copied.
      {"person", "assignee|owner|person", "Person's full name", K::kPerson,
       "for {v}|assigned to {v}|owned by {v}", ""},
      {"customer", "customer name|client|customer", "Customer's full name", K::kPerson,
       "for {v}|for the customer {v}|on behalf of {v}", ""},
      {"guest", "guest name|guest|attendee", "Name of the guest", K::kPerson,
       "for {v}|under the name {v}|in {v}'s name", ""},
      {"email", "email|email address|recipient email", "Email address", K::kEmail,
       "to {v}|with the email {v}|sending it to {v}", ""},
      {"city", "city|location|town", "City name", K::kCity, "in {v}|for {v}|near {v}", ""},
      {"origin", "origin|from airport|departure airport", "Departure airport, IATA code",
       K::kAirport, "from {v}|leaving from {v}|departing {v}", ""},
      {"destination", "destination|to airport|arrival airport", "Arrival airport, IATA code",
       K::kAirport, "to {v}|going to {v}|arriving in {v}", ""},
      {"currency", "currency|currency code", "ISO 4217 currency code", K::kCurrency,
       "in {v}|paid in {v}|using {v}", ""},
      {"target_currency", "target currency|to currency", "ISO 4217 code to convert into",
       K::kCurrency, "into {v}|converted to {v}|in {v}", ""},
      {"country", "country|country code|region", "ISO 3166-1 alpha-2 country code", K::kCountry,
       "in {v}|for {v}|located in {v}", ""},
      {"language", "language|locale|lang", "ISO 639-1 language code", K::kLanguage,
       "in {v}|written in {v}|with {v} as the language", ""},
      {"color", "color|colour|hex color", "Colour as #RRGGBB", K::kColor,
       "in {v}|coloured {v}|set to {v}", ""},
      // Numbers.
      {"guests", "party size|guests|people", "Number of people", K::kCount,
       "for {v} people|for a group of {v}|with {v} guests", "people"},
      {"quantity", "quantity|count|units", "How many", K::kCount,
       "{v} of them|a quantity of {v}|{v} units", "units"},
      {"seats", "seats|tickets|num tickets", "Seats or tickets wanted", K::kCount,
       "{v} seats|{v} tickets|for {v} seats", "seats"},
      {"copies", "copies|num copies", "Number of copies", K::kCount,
       "{v} copies|make it {v} copies", "copies"},
      {"duration", "duration minutes|length minutes|minutes", "How long it lasts", K::kDuration,
       "for {v}|lasting {v}|that runs {v}", ""},
      {"amount", "amount|total|value", "Amount of money", K::kAmount,
       "for {v}|of {v}|worth {v}|totalling {v}", ""},
      {"budget", "budget|max price|price limit", "Most to spend", K::kAmount,
       "with a budget of {v}|for at most {v}|under {v}", ""},
      {"weight", "weight kg|weight|kilograms", "Weight in kilograms", K::kAmount,
       "weighing {v} kg|at {v} kilos|of {v} kg", ""},
      {"discount", "discount percent|discount|percent off", "Discount in percent", K::kPercent,
       "with {v} off|at a {v} discount|giving {v} off", ""},
      {"progress", "progress|percent complete|completion", "How far along, in percent", K::kPercent,
       "at {v} done|{v} complete|with progress at {v}", ""},
      {"rating", "rating|stars|score", "Rating from 1 to 5", K::kSmallInt,
       "with {v} stars|rated {v}|a rating of {v}", ""},
      {"limit", "limit|max results|page size", "How many results at most", K::kSmallInt,
       "showing {v} at most|limited to {v} results|top {v} only", ""},
      {"floor", "floor|level|storey", "Floor number", K::kSmallInt,
       "on floor {v}|on the {v} floor|at level {v}", ""},
      // Dates and times.
      {"date", "date|day|on date", "Date, YYYY-MM-DD", K::kDate, "for {v}|on {v}|set for {v}", ""},
      {"due", "due date|deadline|due by", "Deadline, YYYY-MM-DD", K::kDate,
       "due {v}|by {v}|with a deadline of {v}", ""},
      {"start_date", "start date|from date|begin date", "First day, YYYY-MM-DD", K::kDate,
       "starting {v}|from {v}|beginning {v}", ""},
      {"since", "since|from date|start date", "Earliest date to include, YYYY-MM-DD", K::kPastDate,
       "since {v}|from {v} on|going back to {v}", ""},
      {"when", "start time|starts at|scheduled for", "Start, RFC 3339 date-time", K::kDateTime,
       "for {v}|at {v}|starting {v}", ""},
      {"time", "time|at time|slot", "Time of day, 24-hour HH:MM", K::kTime,
       "at {v}|for {v}|around {v}", ""},
      // Flags.
      {"notify", "notify|send notification|alert", "Whether to notify people", K::kBool,
       "and let everyone know|and notify them|with a notification",
       "without notifying anyone|quietly, no notification|and don't alert anyone"},
      {"recurring", "recurring|repeat|repeats", "Whether it repeats", K::kBool,
       "and make it recurring|repeating every time|as a repeating one",
       "just this once|as a one-off|not repeating"},
      {"private", "private|is private|hidden", "Visible only to the owner", K::kBool,
       "and keep it private|visible only to me|hidden from others",
       "visible to everyone|and make it public|not private"},
      {"express", "express|rush|expedite", "Faster handling for a fee", K::kBool,
       "rushed|as a rush job|expedited", "no need to rush it|at normal speed|not expedited"},
      {"include_archived", "include archived|with archived|show archived",
       "Also include archived ones", K::kBool,
       "including archived ones|archived ones too|even the archived ones",
       "leaving out archived ones|no archived ones|skipping the archived ones"},
      // Enums.
      {"priority", "priority|urgency|importance", "How urgent", K::kEnum, "{v}|marked {v}|as {v}",
       "priority"},
      {"visibility", "visibility|audience|share with", "Who can see it", K::kEnum,
       "{v}|shared {v}|and make it {v}", "visibility"},
      {"frequency", "frequency|interval|repeat every", "How often", K::kEnum, "{v}|repeating {v}",
       "frequency"},
      {"sort", "sort by|order by|sort", "Result order", K::kEnum, "{v}|sorted {v}|ordered {v}",
       "sort"},
      {"status", "status|state|stage", "Current status", K::kEnum,
       "and mark it {v}|setting the status to {v}|as {v}", "status"},
      {"file_format", "format|file format|export format", "Output file format", K::kEnum,
       "as {v}|in {v} format|exported as {v}", "file_format"},
      {"mode", "mode|travel mode|transport", "How to travel", K::kEnum, "{v}|going {v}", "mode"},
      {"cabin", "cabin|class|fare class", "Cabin class", K::kEnum, "in {v}|flying {v}", "cabin"},
      {"speed", "speed|shipping speed|service level", "Delivery speed", K::kEnum,
       "{v}|shipped {v}|with {v} delivery", "speed"},
      {"payment", "payment method|pay with|method", "How it is paid", K::kEnum,
       "{v}|paying {v}|settled {v}", "payment"},
      {"size", "size|plan size|tier", "Size", K::kEnum, "{v}|size {v}|in the {v} size", "size"},
      {"units", "units|unit system|measure", "Unit system", K::kEnum, "{v}|using {v}", "units"},
      {"channel", "channel|via|delivery channel", "How to reach the person", K::kEnum,
       "{v}|sent {v}", "channel"},
      {"level", "level|difficulty|skill level", "Difficulty", K::kEnum, "{v}|at {v} level",
       "level"},
      {"room", "room type|room|bed type", "Kind of room", K::kEnum, "{v}|in {v}", "room"},
      // IDs.
      {"ref", "reference|ref|booking ref", "Reference code", K::kCode,
       "with reference {v}|ref {v}|under {v}", ""},
      // Arrays and objects.
      {"tags", "tags|labels|keywords", "Labels to attach", K::kStringList,
       "tagged {v}|with the labels {v}|labelled {v}", "tags"},
      {"ingredients", "ingredients|foods|include", "Ingredients to use", K::kStringList,
       "with {v}|using {v}|that has {v}", "ingredients"},
      {"skills", "skills|required skills|competencies", "Skills", K::kStringList,
       "with skills in {v}|needing {v}|for people who know {v}", "skills"},
      {"days", "days|weekdays|on days", "Days of the week", K::kWeekdays,
       "on {v}|every {v}|running {v}", ""},
      {"items", "items|line items|products", "What is included", K::kLineItems,
       "with {v}|for {v}|containing {v}", ""},
      {"address", "address|delivery address|location", "Street address", K::kAddress,
       "at {v}|to {v}|delivered to {v}", ""},
      {"contact", "contact|primary contact|contact person", "Who to contact", K::kContact,
       "with {v} as the contact|contact {v}|reachable via {v}", ""},
      {"price_range", "price range|price|cost range", "Price bounds", K::kRange,
       "priced {v}|costing {v}|{v} in price", ""},
  };
  return kDefs;
}

const ParamDef& param_def(const std::string& id) {
  static const std::map<std::string, const ParamDef*> kById = [] {
    std::map<std::string, const ParamDef*> m;
    for (const auto& d : param_defs()) m[d.id] = &d;
    return m;
  }();
  const auto it = kById.find(id);
  TSFT_CHECK(it != kById.end(), "unknown parameter def ", id);
  return *it->second;
}

const std::vector<EnumPool>& enum_pools() {
  static const std::vector<EnumPool> kPools = {
      {"priority",
       {{"low", "low priority|no rush|whenever you get to it|not urgent at all"},
        {"normal", "normal priority|regular priority|standard priority"},
        {"high", "high priority|important|fairly pressing"},
        {"urgent", "urgent|as an emergency|top priority, drop everything"}}},
      {"visibility",
       {{"private", "private|just for me|only visible to me"},
        {"team", "team-only|visible to my team|shared with the team"},
        {"public", "public|visible to everyone|open to anyone"}}},
      {"frequency",
       {{"daily", "daily|every day|once a day"},
        {"weekly", "weekly|every week|once a week"},
        {"monthly", "monthly|every month|once a month"}}},
      {"sort",
       {{"newest", "newest first|most recent first|latest first"},
        {"oldest", "oldest first|earliest first"},
        {"price_asc", "cheapest first|lowest price first|from cheapest to priciest"},
        {"price_desc", "most expensive first|priciest first|highest price first"}}},
      {"status",
       {{"open", "open|still open|not started"},
        {"in_progress", "in progress|being worked on|underway"},
        {"done", "done|finished|complete"},
        {"blocked", "blocked|stuck|on hold because of a blocker"}}},
      {"file_format",
       {{"pdf", "a PDF|PDF"},
        {"csv", "CSV|comma-separated values"},
        {"xlsx", "an Excel spreadsheet|Excel|xlsx"},
        {"json", "JSON"}}},
      {"mode",
       {{"driving", "by car|driving"},
        {"walking", "on foot|walking"},
        {"cycling", "by bike|cycling"},
        {"transit", "by public transport|by bus or train"}}},
      {"cabin",
       {{"economy", "economy|coach|the cheapest cabin"},
        {"premium_economy", "premium economy"},
        {"business", "business class|business"},
        {"first", "first class"}}},
      {"speed",
       {{"standard", "standard|regular|no hurry"},
        {"express", "express|fast"},
        {"overnight", "overnight|next-day"}}},
      {"payment",
       {{"card", "by card|with a credit card|on my card"},
        {"cash", "in cash|cash"},
        {"bank_transfer", "by bank transfer|by wire"},
        {"invoice", "on invoice|billed later"}}},
      {"size",
       {{"small", "small|the smallest one"},
        {"medium", "medium|mid-sized"},
        {"large", "large|the big one"}}},
      {"units",
       {{"metric", "metric units|kilometres and kilos|metric"},
        {"imperial", "imperial units|miles and pounds|imperial"}}},
      {"channel",
       {{"email", "by email|over email"},
        {"sms", "by text message|via SMS|by text"},
        {"push", "as a push notification|through the app"}}},
      {"level",
       {{"beginner", "beginner|for newcomers|entry"},
        {"intermediate", "intermediate|mid"},
        {"advanced", "advanced|expert"}}},
      {"room",
       {{"single", "a single room|a single"},
        {"double", "a double room|a double"},
        {"suite", "a suite"}}},
  };
  return kPools;
}

const EnumPool& enum_pool(const std::string& id) {
  for (const auto& p : enum_pools())
    if (id == p.id) return p;
  TSFT_CHECK(false, "unknown enum pool ", id);
  return enum_pools()[0];
}

const std::vector<VerbDef>& verb_defs() {
  // Frames: imperatives, polite questions, questions about the thing itself ("How many
  // invoices are there ...?") and bare noun phrases ("Invoices for Acme?", "A table for two,
  // please."), so that a request put as a question is still read as a call.
  static const std::vector<VerbDef> kVerbs = {
      {"create", "create|add|new|register|open", "create",
       "Create {ae}{args}.|Can you add {ae}{args}?|I need a new {e}{args}.|Please set up "
       "{ae}{args}.|Open {ae}{args}, please.|Could you register {ae}{args}?|Make {ae}{args}.|"
       "New {e}{args}, please.|Could I get {ae}{args}?|Can we add {ae}{args}?",
       false},
      {"get", "get|fetch|show|lookup|read", "look up",
       "Show me the {e}{args}.|Can you pull up the {e}{args}?|Look up the {e}{args}.|What does "
       "the {e}{args} say?|Fetch the details of the {e}{args}.|What's the latest on the "
       "{e}{args}?|Where are we with the {e}{args}?|Status of the {e}{args}?|How does the "
       "{e}{args} look?|Details for the {e}{args}?|What do we have on the {e}{args}?",
       true},
      {"list", "list|search|find|query|browse", "search for",
       "Find {es}{args}.|List {es}{args}.|Which {es} are there{args}?|Search for {es}{args}.|Show "
       "me all {es}{args}.|Any {es}{args}?|How many {es} are there{args}?|Do we have any "
       "{es}{args}?|Is there {ae}{args}?|{Es}{args}?|Got any {es}{args}?|What {es} do we "
       "have{args}?",
       false},
      {"update", "update|edit|modify|change|patch", "update",
       "Update the {e}{args}.|Change the {e}{args}.|Can you edit the {e}{args}?|Please modify the "
       "{e}{args}.|Could you change the {e}{args}?|Is it possible to update the {e}{args}?",
       true},
      {"delete", "delete|remove|cancel|archive|drop", "remove",
       "Delete the {e}{args}.|Cancel the {e}{args}.|Please remove the {e}{args}.|Get rid of the "
       "{e}{args}.|Archive the {e}{args}.|Can you cancel the {e}{args}?|Could you delete the "
       "{e}{args}?",
       true},
      {"book", "book|reserve|schedule|hold", "book",
       "Book {ae}{args}.|Reserve {ae}{args}.|Could you schedule {ae}{args}?|I'd like to book "
       "{ae}{args}.|Hold {ae} for me{args}.|{Ae}{args}, please.|Can I book {ae}{args}?|Any "
       "chance of {ae}{args}?",
       false},
      {"send", "send|share|submit|dispatch", "send",
       "Send {ae}{args}.|Submit {ae}{args}.|Please share {ae}{args}.|Can you dispatch "
       "{ae}{args}?|Could you send {ae}{args}?|Can {ae} go out{args}?",
       false},
      {"export", "export|download|generate|report", "export",
       "Export the {es}{args}.|Download the {es}{args}.|Generate a report of {es}{args}.|Give "
       "me an export of the {es}{args}.|Can I get an export of the {es}{args}?|{Es}{args} as "
       "a download, please.",
       false},
      {"assign", "assign|transfer|hand over|reassign", "assign",
       "Assign the {e}{args}.|Hand the {e} over{args}.|Reassign the {e}{args}.|Transfer the "
       "{e}{args}.|Can you assign the {e}{args}?|Could the {e} be reassigned{args}?",
       true},
  };
  return kVerbs;
}

const VerbDef& verb_def(const std::string& id) {
  for (const auto& v : verb_defs())
    if (id == v.id) return v;
  TSFT_CHECK(false, "unknown verb ", id);
  return verb_defs()[0];
}

const std::vector<DomainDef>& domain_defs() {
  static const std::vector<DomainDef> kDomains = {
      {"crm", "the CRM", "lead|contact|deal|account|opportunity", "create|get|list|update|assign",
       "customer|email|amount|currency|priority|status|note|tags|contact|due|country", "sales"},
      {"sales", "the sales pipeline", "quote|order|forecast|territory",
       "create|get|list|export|send",
       "customer|amount|currency|discount|items|due|file_format|since", "crm"},
      {"hr", "human resources", "employee|vacancy|review|onboarding|absence",
       "create|get|list|update|assign", "person|start_date|reason|note|status|skills|country|level",
       "payroll"},
      {"payroll", "payroll", "payslip|bonus|expense claim|salary change",
       "create|get|list|export|send", "person|amount|currency|since|file_format|reason|date", "hr"},
      {"helpdesk", "the help desk", "ticket|incident|request|escalation",
       "create|get|list|update|assign|delete",
       "title|summary|priority|status|person|tags|email|due", "devops"},
      {"devops", "the deployment platform", "release|pipeline|rollback|environment|build",
       "create|get|list|delete|send", "title|note|when|notify|tags|status|country|ref", "helpdesk"},
      {"storage", "cloud storage", "folder|file|share link|bucket",
       "create|list|delete|send|export", "title|email|visibility|private|size|tags|since", "docs"},
      {"docs", "the document editor", "document|template|page|comment",
       "create|get|list|update|delete|export", "title|summary|file_format|language|visibility|tags",
       "storage"},
      {"flights", "air travel", "flight|fare|seat|boarding pass", "list|book|get|delete",
       "origin|destination|date|cabin|seats|budget|ref|guest", "hotels"},
      {"hotels", "hotel stays", "room|stay|hotel|booking", "list|book|get|delete|update",
       "city|start_date|guests|room|budget|guest|ref|note|price_range", "flights"},
      {"transit", "local transport", "ride|route|bike rental|taxi", "book|list|get|delete",
       "address|when|mode|seats|city|payment|time", "hotels"},
      {"calendar", "the calendar", "meeting|event|appointment|block",
       "create|list|update|delete|book", "title|when|duration|email|recurring|days|note|visibility",
       "tasks"},
      {"tasks", "the task tracker", "task|todo|checklist|milestone",
       "create|list|update|delete|assign", "title|due|priority|status|person|tags|progress|note",
       "calendar"},
      {"home", "the smart home", "light|heater|blind|camera|speaker", "update|get|list",
       "color|progress|when|days|time|floor|private", "energy"},
      {"energy", "energy monitoring", "meter reading|tariff|solar panel|battery",
       "get|list|export|create", "since|file_format|amount|currency|time|frequency", "home"},
      {"bank", "online banking", "payment|standing order|card|transaction",
       "create|list|get|delete|send", "amount|currency|customer|date|frequency|reason|ref|since",
       "invest"},
      {"invest", "the brokerage account", "position|watchlist|trade|dividend",
       "create|list|get|delete|export", "amount|currency|country|limit|since|file_format|tags",
       "bank"},
      {"billing", "billing", "invoice|credit note|receipt|subscription",
       "create|send|list|get|delete", "customer|items|amount|currency|due|discount|email|payment",
       "sales"},
      {"warehouse", "the warehouse", "shipment|pallet|stock count|bin|supplier",
       "create|list|update|get|send", "items|address|speed|weight|quantity|ref|date|floor",
       "shipping"},
      {"shipping", "parcel shipping", "parcel|label|pickup|return", "create|book|get|list|delete",
       "address|weight|speed|date|contact|ref|country|express", "warehouse"},
      {"kitchen", "the recipe book", "recipe|meal plan|grocery list|pantry item",
       "create|list|get|update|export", "ingredients|guests|duration|level|tags|days|title",
       "dining"},
      {"dining", "restaurants", "table|takeaway order|tasting menu|review",
       "book|create|list|delete", "guests|date|time|city|items|rating|note|payment|guest",
       "kitchen"},
      {"fitness", "fitness tracking", "workout|run|training plan|class",
       "create|list|book|get|export", "duration|date|level|days|weight|progress|note|since",
       "health"},
      {"health", "the clinic", "appointment|prescription|test result|referral",
       "book|get|list|delete|send", "person|date|time|reason|email|channel|ref|city", "fitness"},
      {"pets", "pet care", "grooming|walk|vet check|pet sitter", "book|list|delete|create",
       "date|time|duration|note|address|recurring|days|person", "health"},
      {"events", "event ticketing", "ticket|concert|festival pass|seat",
       "list|book|get|delete|send", "city|date|seats|budget|price_range|sort|email|guest",
       "cinema"},
      {"cinema", "the cinema", "screening|film|seat|membership", "list|book|get|delete",
       "city|date|time|seats|language|sort|guest", "events"},
      {"music", "the music service", "playlist|track|album|station",
       "create|list|update|delete|send", "title|tags|private|limit|language|email", "podcasts"},
      {"podcasts", "the podcast app", "episode|show|subscription|clip",
       "list|get|delete|send|create", "query|limit|since|language|sort|tags|email", "music"},
      {"library", "the library", "book|loan|hold|study room", "list|book|get|delete|update",
       "query|person|date|duration|language|floor|ref", "school"},
      {"school", "the learning platform", "course|assignment|exam|enrolment",
       "list|create|get|update|send", "title|due|level|language|person|progress|note|since",
       "library"},
      {"jobs", "the job board", "job posting|application|interview|candidate",
       "create|list|book|update|send", "title|city|skills|amount|currency|level|when|email", "hr"},
      {"realestate", "property listings", "listing|viewing|offer|rental",
       "list|book|create|get|send", "city|price_range|guests|date|time|amount|currency|note",
       "hotels"},
      {"parking", "city parking", "permit|space|session|fine", "book|get|list|delete|send",
       "city|when|duration|ref|payment|amount|address", "transit"},
      {"garden", "the garden planner", "bed|sowing|watering plan|harvest", "create|list|update|get",
       "title|date|days|duration|quantity|note|size", "home"},
      {"social", "the social media account", "post|story|comment|campaign",
       "create|list|delete|send|export", "message|when|visibility|tags|language|since|file_format",
       "marketing"},
      {"marketing", "marketing", "newsletter|campaign|segment|coupon",
       "create|send|list|export|get", "title|message|when|discount|channel|country|tags|email",
       "social"},
      {"fleet", "the vehicle fleet", "vehicle|trip|service visit|fuel card",
       "book|list|get|update|assign", "person|date|city|address|note|weight|ref|since", "transit"},
      {"insurance", "insurance", "policy|quote|renewal|cover", "create|get|list|send|update",
       "customer|amount|currency|start_date|country|note|payment|ref", "bank"},
      {"photos", "the photo library", "album|photo|slideshow|print order",
       "create|list|delete|send|export", "title|tags|since|email|copies|size|private", "storage"},
  };
  return kDomains;
}

const std::vector<std::string>& word_pool(const std::string& id) {
  static const std::map<std::string, std::vector<std::string>> kPools = {
      {"titles", {"Q3 planning kickoff",     "Website refresh",
                  "Onboarding for Priya",    "Budget review",
                  "Spring clean-up",         "Vendor shortlist",
                  "Team offsite ideas",      "Printer on 2nd floor jams",
                  "Move to new office",      "Year-end party",
                  "Customer survey results", "Security audit prep",
                  "Roadmap draft",           "Catering for the launch",
                  "Migrate old backups",     "Hiring plan 2027",
                  "Kitchen renovation",      "Weekly sync",
                  "Conference travel",       "Board deck v2",
                  "Fix login timeout",       "Holiday rota",
                  "Garden shed quotes",      "Product photo shoot"}},
      {"notes",
       {"call back after lunch", "needs manager sign-off", "bring the blue folder",
        "parking is behind the building", "ask about the bulk discount", "gate code is 4417",
        "first visit, allow extra time", "check the invoice against the PO",
        "fragile, handle with care", "leave at the side door", "second reminder already sent",
        "prefers calls after 4pm", "window seat if possible", "allergic to nuts"}},
      {"messages",
       {"Running ten minutes late, start without me", "The draft is ready for your review",
        "Thanks for a great quarter, everyone", "Please confirm by Thursday",
        "The office is closed on Monday", "Your order has shipped", "Welcome aboard!",
        "Can we move this to next week?", "Happy birthday from all of us",
        "Reminder: timesheets are due", "The server maintenance is done"}},
      {"reasons",
       {"duplicate entry", "customer changed their mind", "wrong address", "double booked",
        "budget was cut", "found a cheaper option", "plans changed", "sick child at home",
        "project cancelled", "entered by mistake"}},
      {"queries",
       {"remote onboarding", "winter tyres", "sourdough starter", "quarterly tax",
        "noise "
        "cancelling",
        "jazz piano", "solar subsidies", "team building", "retro games", "learning Spanish",
        "productivity tips", "true crime"}},
      {"summaries",
       {"VPN drops every few minutes", "Invoice total does not match the order",
        "New hire needs a laptop and badge", "Kitchen tap is leaking",
        "Slides for the client "
        "pitch",
        "Lift stuck on level 3", "Password reset loop on mobile", "Monthly numbers for the board",
        "Shared drive is almost full"}},
      {"tags",
       {"urgent", "finance", "q3", "design", "backend", "family", "travel", "legal", "review",
        "marketing", "internal", "client", "draft", "summer", "archive", "ops"}},
      {"ingredients",
       {"spinach", "chickpeas", "feta", "salmon", "mushrooms", "tofu", "sweet potato", "couscous",
        "lentils", "basil", "garlic", "eggs", "coconut milk", "leeks", "halloumi", "quinoa"}},
      {"skills",
       {"SQL", "Kubernetes", "bookkeeping", "Figma", "customer support", "Rust", "copywriting",
        "forklift driving", "Excel", "project management", "German", "React"}},
      {"people", {"Ana Ruiz",      "Tom Becker",   "Priya Nair",    "Lukas Novak",  "Chloe Martin",
                  "Kenji Sato",    "Fatima Zahra", "Oliver Brandt", "Sofia Rossi",  "Mateo Silva",
                  "Hannah Cole",   "Ibrahim Musa", "Grace Liu",     "Noah Fischer", "Elena Petrova",
                  "Daniel Okafor", "Mia Jensen",   "Arjun Mehta",   "Laura Gomez",  "Sam O'Neill"}},
      {"cities", {"Porto",   "Lyon",     "Leeds",     "Graz",    "Gothenburg", "Bilbao",
                  "Utrecht", "Krakow",   "Bologna",   "Ghent",   "Aarhus",     "Tampere",
                  "Brno",    "Valencia", "Edinburgh", "Calgary", "Osaka",      "Melbourne",
                  "Austin",  "Portland", "Cork",      "Basel",   "Nantes",     "Tallinn"}},
      {"streets",
       {"Elm Road", "Harbour Street", "Mill Lane", "Station Avenue", "King's Parade", "Rosenweg",
        "Canal Street", "Oak Drive", "Market Square", "Church Lane"}},
      {"mail_domains", {"example.com", "mail.test", "company.org", "studio.io", "acme.net"}},
  };
  const auto it = kPools.find(id);
  TSFT_CHECK(it != kPools.end(), "unknown word pool ", id);
  return it->second;
}

const std::vector<NamedCode>& airports() {
  static const std::vector<NamedCode> k = {
      {"Lisbon", "LIS"},     {"Madrid", "MAD"},      {"Amsterdam", "AMS"}, {"Frankfurt", "FRA"},
      {"Dublin", "DUB"},     {"Vienna", "VIE"},      {"Zurich", "ZRH"},    {"Denver", "DEN"},
      {"Seattle", "SEA"},    {"Sydney", "SYD"},      {"Singapore", "SIN"}, {"Dubai", "DXB"},
      {"Athens", "ATH"},     {"Prague", "PRG"},      {"Oslo", "OSL"},      {"Helsinki", "HEL"},
      {"Copenhagen", "CPH"}, {"Mexico City", "MEX"}, {"Brussels", "BRU"},  {"Budapest", "BUD"},
      {"Warsaw", "WAW"},     {"Barcelona", "BCN"},   {"Munich", "MUC"},    {"Hong Kong", "HKG"},
      {"Auckland", "AKL"},   {"Reykjavik", "KEF"},   {"Nairobi", "NBO"},   {"Lima", "LIM"}};
  return k;
}

const std::vector<NamedCode>& currencies() {
  static const std::vector<NamedCode> k = {{"euros", "EUR"},
                                           {"US dollars", "USD"},
                                           {"British pounds", "GBP"},
                                           {"Japanese yen", "JPY"},
                                           {"Swiss francs", "CHF"},
                                           {"Canadian dollars", "CAD"},
                                           {"Australian dollars", "AUD"},
                                           {"Indian rupees", "INR"},
                                           {"Mexican pesos", "MXN"},
                                           {"Norwegian kroner", "NOK"},
                                           {"Danish kroner", "DKK"},
                                           {"Polish zloty", "PLN"},
                                           {"Brazilian reais", "BRL"},
                                           {"South African rand", "ZAR"},
                                           {"Singapore dollars", "SGD"},
                                           {"Czech koruna", "CZK"},
                                           {"New Zealand dollars", "NZD"},
                                           {"Turkish lira", "TRY"}};
  return k;
}

const std::vector<NamedCode>& countries() {
  static const std::vector<NamedCode> k = {
      {"Germany", "DE"}, {"France", "FR"},      {"Japan", "JP"},       {"Brazil", "BR"},
      {"Canada", "CA"},  {"Spain", "ES"},       {"Italy", "IT"},       {"the Netherlands", "NL"},
      {"Sweden", "SE"},  {"India", "IN"},       {"Mexico", "MX"},      {"Australia", "AU"},
      {"Ireland", "IE"}, {"Poland", "PL"},      {"Portugal", "PT"},    {"Kenya", "KE"},
      {"Norway", "NO"},  {"Switzerland", "CH"}, {"South Korea", "KR"}, {"the United Kingdom", "GB"},
      {"Austria", "AT"}, {"Belgium", "BE"},     {"Finland", "FI"},     {"Greece", "GR"}};
  return k;
}

const std::vector<NamedCode>& languages() {
  static const std::vector<NamedCode> k = {
      {"English", "en"}, {"Spanish", "es"},    {"French", "fr"},   {"German", "de"},
      {"Italian", "it"}, {"Portuguese", "pt"}, {"Japanese", "ja"}, {"Dutch", "nl"},
      {"Korean", "ko"},  {"Polish", "pl"},     {"Swedish", "sv"},  {"Turkish", "tr"}};
  return k;
}

const std::vector<NamedCode>& colors() {
  static const std::vector<NamedCode> k = {
      {"red", "#FF0000"},    {"green", "#00FF00"},  {"blue", "#0000FF"},   {"white", "#FFFFFF"},
      {"yellow", "#FFFF00"}, {"orange", "#FFA500"}, {"purple", "#800080"}, {"pink", "#FFC0CB"},
      {"teal", "#008080"},   {"navy", "#000080"},   {"gold", "#FFD700"},   {"cyan", "#00FFFF"}};
  return k;
}

const std::vector<NamedCode>& countable_items() {
  static const std::vector<NamedCode> k = {{"notebook", "notebooks"},
                                           {"stapler", "staplers"},
                                           {"monitor", "monitors"},
                                           {"chair", "chairs"},
                                           {"desk lamp", "desk lamps"},
                                           {"keyboard", "keyboards"},
                                           {"pallet of paper", "pallets of paper"},
                                           {"coffee", "coffees"},
                                           {"bagel", "bagels"},
                                           {"salad", "salads"},
                                           {"box", "boxes"},
                                           {"cable", "cables"},
                                           {"mug", "mugs"},
                                           {"T-shirt", "T-shirts"},
                                           {"poster", "posters"},
                                           {"battery", "batteries"},
                                           {"headset", "headsets"},
                                           {"sandwich", "sandwiches"}};
  return k;
}

const std::vector<NamedCode>& chit_chat() {
  static const std::vector<NamedCode> k = {
      {"Morning! How's it going?", "Good morning! All good here. What can I do for you?"},
      {"Thanks a lot, that was helpful.", "Glad it helped! Anything else?"},
      {"What's the tallest mountain in Africa?", "Mount Kilimanjaro, at about 5,895 metres."},
      {"Who composed The Four Seasons?", "Antonio Vivaldi composed The Four Seasons."},
      {"How do I say thank you politely in an email?",
       "\"Thank you very much for your help\" or \"I really appreciate it\" both work well."},
      {"What is a haiku?", "A short Japanese poem of three lines with 5, 7 and 5 syllables."},
      {"Can you recommend a board game for four people?",
       "Ticket to Ride or Carcassonne are easy to learn and fun with four."},
      {"Why is the sky blue?",
       "Air scatters blue sunlight more than red light, so the sky looks blue."},
      {"Give me a fun fact about octopuses.", "An octopus has three hearts."},
      {"What's the difference between weather and climate?",
       "Weather is the day-to-day state of the air; climate is its average over decades."},
      {"Never mind, I figured it out.", "Great, glad you sorted it! I'm here if you need me."},
      {"What rhymes with orange?", "Almost nothing rhymes perfectly; \"door hinge\" is close."},
      {"How many bones are in the human body?", "An adult has 206 bones."},
      {"What does CPU stand for?", "Central Processing Unit."},
      {"Are you a real person?", "No, I'm an AI assistant. How can I help?"},
      {"Suggest a name for a grey kitten.", "How about Smoky, Ash or Pebble?"},
      {"ok cool", "Let me know if you need anything else."},
      {"Which planet has the most moons?", "Saturn, with well over a hundred known moons."},
      {"What's a good stretch for a stiff neck?",
       "Slowly tilt your ear towards your shoulder and hold for 20 seconds on each side."},
      {"Explain inflation in one sentence.",
       "Inflation is the general rise in prices that makes money buy less over time."},
      {"bye for now", "Bye! Talk soon."},
      {"Who invented the telephone?", "Alexander Graham Bell is credited with it in 1876."},
  };
  return k;
}

const std::vector<std::string>& reserved_function_names() {
  // tests/data/handwritten/tool_calling_schemas.json; test_gen_generalist checks this list covers
  // the file, so adding a hand-written schema without adding its name here fails the build's tests.
  static const std::vector<std::string> k = {"search_flights",
                                             "bookHotel",
                                             "rent_car",
                                             "rideshare.request_ride",
                                             "get_route",
                                             "find_nearby_places",
                                             "calendar.create_event",
                                             "calendar.list_events",
                                             "set_thermostat",
                                             "smartHome.setLights",
                                             "lock_door",
                                             "garden.set_irrigation",
                                             "energy.get_usage",
                                             "vehicle.start_charging",
                                             "bank.transfer_funds",
                                             "get_account_balance",
                                             "pay_bill",
                                             "splitExpense",
                                             "convert_currency",
                                             "get_exchange_rate",
                                             "stocks.get_quote",
                                             "place_stock_order",
                                             "create_invoice",
                                             "donate",
                                             "insurance.file_claim",
                                             "redeemPoints",
                                             "inventory.adjust_stock",
                                             "checkStockLevel",
                                             "crm.create_lead",
                                             "crm.update_deal_stage",
                                             "timesheet.log_hours",
                                             "hr.request_leave",
                                             "hr.get_leave_balance",
                                             "it.create_ticket",
                                             "it.reset_password",
                                             "deploy_service",
                                             "dns.add_record",
                                             "schedule_backup",
                                             "repo.open_issue",
                                             "find_recipes",
                                             "scale_recipe",
                                             "order_food",
                                             "makeReservation",
                                             "add_to_shopping_list",
                                             "create_shipment",
                                             "trackPackage",
                                             "log_workout",
                                             "fitness.get_weekly_summary",
                                             "book_fitness_class",
                                             "book_medical_appointment",
                                             "cancelAppointment",
                                             "pet.schedule_vet_visit",
                                             "parking.reserve_spot",
                                             "pay_parking_meter",
                                             "library.search_catalog",
                                             "library.renew_loan",
                                             "music_play",
                                             "addToPlaylist",
                                             "podcast.subscribe",
                                             "movie_showtimes",
                                             "buy_event_tickets",
                                             "get_match_score",
                                             "convert_units",
                                             "search_listings",
                                             "jobs.search",
                                             "enroll_course",
                                             "notes.create_note",
                                             "lookup_definition"};
  return k;
}

}  // namespace tsft
