# Hand-written function schemas of the held-out tool-calling set (issue 9): domains, naming
# styles and schema features unlike configs/tools/default_tools.json. Read by
# tools/build_handwritten_tool_calling.py; every name here is unique.


def fn(name, description, properties, required=()):
    return {"type": "function",
            "function": {"name": name, "description": description,
                         "parameters": {"type": "object", "properties": properties,
                                        "required": list(required)}}}


def s(description, **kw):
    return {"type": "string", "description": description, **kw}


def i(description, **kw):
    return {"type": "integer", "description": description, **kw}


def n(description, **kw):
    return {"type": "number", "description": description, **kw}


def b(description, **kw):
    return {"type": "boolean", "description": description, **kw}


def e(description, values, **kw):
    return {"type": "string", "description": description, "enum": values, **kw}


def arr(description, items, **kw):
    return {"type": "array", "description": description, "items": items, **kw}


def obj(description, properties, required=()):
    return {"type": "object", "description": description, "properties": properties,
            "required": list(required)}


IATA = "^[A-Z]{3}$"
CCY = "^[A-Z]{3}$"
DATE = {"format": "date"}
DT = {"format": "date-time"}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

SCHEMAS = [
    # --- travel
    fn("search_flights", "Search for flights between two airports.", {
        "origin": s("Departure airport IATA code, e.g. JFK", pattern=IATA),
        "destination": s("Arrival airport IATA code", pattern=IATA),
        "depart_date": s("Outbound date", **DATE),
        "return_date": s("Return date for a round trip; omit for one-way", **DATE),
        "passengers": i("Number of passengers", minimum=1, maximum=9, default=1),
        "cabin": e("Cabin class", ["economy", "premium_economy", "business", "first"],
                   default="economy"),
    }, ["origin", "destination", "depart_date"]),
    fn("bookHotel", "Book a hotel room in a city.", {
        "city": s("City name"),
        "checkIn": s("Check-in date", **DATE),
        "checkOut": s("Check-out date", **DATE),
        "guests": i("Number of guests", minimum=1, maximum=10),
        "rooms": i("Number of rooms", minimum=1, default=1),
        "amenities": arr("Required amenities",
                         {"type": "string",
                          "enum": ["pool", "gym", "parking", "breakfast", "wifi", "pets"]}),
    }, ["city", "checkIn", "checkOut", "guests"]),
    fn("rent_car", "Reserve a rental car.", {
        "pickup_location": s("City or airport where the car is collected"),
        "pickup_date": s("Pick-up date", **DATE),
        "return_date": s("Return date", **DATE),
        "car_class": e("Vehicle class", ["economy", "compact", "suv", "van"]),
        "driver_age": i("Age of the main driver", minimum=18, maximum=99),
    }, ["pickup_location", "pickup_date", "return_date", "car_class"]),
    fn("rideshare.request_ride", "Request a ride from a pickup point to a drop-off point.", {
        "pickup": s("Pickup address or place"),
        "dropoff": s("Drop-off address or place"),
        "ride_type": e("Kind of car", ["standard", "xl", "comfort"], default="standard"),
        "scheduled_for": s("When to be picked up; omit for now", **DT),
    }, ["pickup", "dropoff"]),
    fn("get_route", "Plan a route between two places.", {
        "origin": s("Start address or place"),
        "destination": s("End address or place"),
        "mode": e("Travel mode", ["driving", "walking", "cycling", "transit"]),
        "avoid": arr("Road features to avoid",
                     {"type": "string", "enum": ["tolls", "highways", "ferries"]},
                     uniqueItems=True),
    }, ["origin", "destination", "mode"]),
    fn("find_nearby_places", "Find places of a category near a location.", {
        "category": e("Kind of place", ["restaurant", "pharmacy", "gas_station", "atm",
                                         "supermarket", "hospital", "ev_charger"]),
        "near": s("Address, landmark or 'current_location'"),
        "radius_m": i("Search radius in metres", minimum=100, maximum=50000, default=1000),
        "open_now": b("Only places open right now", default=False),
    }, ["category", "near"]),
    # --- calendar, smart home
    fn("calendar.create_event", "Create an event in the user's calendar.", {
        "title": s("Event title"),
        "start": s("Start time with UTC offset", **DT),
        "duration_minutes": i("Length of the event in minutes", minimum=5, maximum=1440),
        "attendees": arr("Email addresses of invitees", {"type": "string"}),
        "location": s("Where the event takes place"),
    }, ["title", "start", "duration_minutes"]),
    fn("calendar.list_events", "List calendar events on one day.", {
        "date": s("The day", **DATE),
        "calendar": e("Which calendar", ["work", "personal", "all"], default="all"),
    }, ["date"]),
    fn("set_thermostat", "Set the target temperature of a room's thermostat.", {
        "room": s("Room name"),
        "temperature_c": n("Target temperature in degrees Celsius", minimum=10, maximum=30),
        "mode": e("Heating mode", ["heat", "cool", "auto"], default="auto"),
    }, ["room", "temperature_c"]),
    fn("smartHome.setLights", "Switch the lights of a room and set their brightness.", {
        "room": s("Room name"),
        "on": b("true to switch on, false to switch off"),
        "brightness": i("Brightness in percent", minimum=0, maximum=100),
        "color": s("Colour name, e.g. warm white, blue"),
    }, ["room", "on"]),
    fn("lock_door", "Lock or unlock a smart door lock.", {
        "door": e("Which door", ["front", "back", "garage", "patio"]),
        "locked": b("true to lock, false to unlock"),
    }, ["door", "locked"]),
    fn("garden.set_irrigation", "Set the watering schedule of an irrigation zone.", {
        "zone": i("Zone number", minimum=1, maximum=8),
        "days": arr("Days to water", {"type": "string", "enum": WEEKDAYS}, minItems=1,
                    uniqueItems=True),
        "minutes": i("Minutes of watering per day", minimum=1, maximum=120),
        "start_time": s("Start time HH:MM (24h)", pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    }, ["zone", "days", "minutes"]),
    fn("energy.get_usage", "Report household energy or water usage.", {
        "meter": e("Which meter", ["electricity", "gas", "water"]),
        "period": e("Period to report", ["day", "week", "month", "year"]),
    }, ["meter", "period"]),
    fn("vehicle.start_charging", "Start charging an electric vehicle.", {
        "vehicle_id": s("Vehicle nickname or ID"),
        "target_percent": i("Stop charging at this battery level", minimum=50, maximum=100,
                            default=80),
        "depart_at": s("Be charged by this time", **DT),
    }, ["vehicle_id"]),
    # --- money
    fn("bank.transfer_funds", "Transfer money from one of the user's accounts to an IBAN.", {
        "from_account": e("Source account", ["checking", "savings", "joint"]),
        "to_iban": s("Recipient IBAN without spaces", pattern="^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$"),
        "amount": n("Amount to send", exclusiveMinimum=0),
        "currency": e("Currency", ["EUR", "USD", "GBP", "CHF"]),
        "reference": s("Payment reference shown to the recipient", maxLength=140),
    }, ["from_account", "to_iban", "amount", "currency"]),
    fn("get_account_balance", "Get the balance of one of the user's bank accounts.", {
        "account": e("Which account", ["checking", "savings", "joint", "credit_card"]),
    }, ["account"]),
    fn("pay_bill", "Pay or schedule a bill to a saved payee.", {
        "payee": s("Saved payee name"),
        "amount": n("Amount", exclusiveMinimum=0),
        "pay_on": s("Date to pay; omit for today", **DATE),
    }, ["payee", "amount"]),
    fn("splitExpense", "Split a shared expense between people.", {
        "description": s("What the expense was"),
        "total": n("Total amount", exclusiveMinimum=0),
        "paidBy": s("Who paid"),
        "participants": arr("Everyone sharing the cost, including the payer",
                            {"type": "string"}, minItems=2),
    }, ["total", "paidBy", "participants"]),
    fn("convert_currency", "Convert an amount between currencies at today's rate.", {
        "amount": n("Amount to convert"),
        "from": s("ISO 4217 code of the source currency", pattern=CCY),
        "to": s("ISO 4217 code of the target currency", pattern=CCY),
    }, ["amount", "from", "to"]),
    fn("get_exchange_rate", "Get the exchange rate between two currencies, optionally on a past date.", {
        "base": s("ISO 4217 code", pattern=CCY),
        "quote": s("ISO 4217 code", pattern=CCY),
        "date": s("Historical date; omit for the latest rate", **DATE),
    }, ["base", "quote"]),
    fn("stocks.get_quote", "Get the latest price of a stock by ticker symbol.", {
        "symbol": s("Ticker symbol", pattern="^[A-Z.]{1,6}$"),
    }, ["symbol"]),
    fn("place_stock_order", "Place a buy or sell order for shares.", {
        "symbol": s("Ticker symbol", pattern="^[A-Z.]{1,6}$"),
        "side": e("Buy or sell", ["buy", "sell"]),
        "quantity": i("Number of shares", minimum=1),
        "order_type": e("Order type", ["market", "limit"], default="market"),
        "limit_price": n("Limit price per share, for limit orders only"),
    }, ["symbol", "side", "quantity"]),
    fn("create_invoice", "Create an invoice for a client.", {
        "client_name": s("Client"),
        "currency": s("ISO 4217 code", pattern=CCY),
        "line_items": arr("Invoice lines", obj("One line", {
            "description": s("What was delivered"),
            "quantity": i("How many", minimum=1),
            "unit_price": n("Price per unit", minimum=0),
        }, ["description", "quantity", "unit_price"]), minItems=1),
        "due_in_days": i("Payment term in days", minimum=0, default=30),
    }, ["client_name", "currency", "line_items"]),
    fn("donate", "Make a donation to a charity.", {
        "charity": s("Charity name"),
        "amount": n("Amount in the user's currency", exclusiveMinimum=0),
        "frequency": e("How often", ["once", "monthly", "yearly"], default="once"),
        "anonymous": b("Hide the donor's name", default=False),
    }, ["charity", "amount"]),
    fn("insurance.file_claim", "File an insurance claim.", {
        "policy_number": s("Policy number"),
        "claim_type": e("Kind of claim", ["auto", "home", "travel", "health"]),
        "incident_date": s("When it happened", **DATE),
        "description": s("What happened"),
        "estimated_amount": n("Estimated cost", minimum=0),
    }, ["policy_number", "claim_type", "incident_date", "description"]),
    fn("redeemPoints", "Redeem loyalty points for a reward.", {
        "memberId": s("Loyalty member ID"),
        "reward": e("Reward", ["coffee", "movie_ticket", "gift_card_10", "gift_card_50",
                               "lounge_pass"]),
        "quantity": i("How many", minimum=1, default=1),
    }, ["memberId", "reward"]),
    # --- business
    fn("inventory.adjust_stock", "Add or remove units of a product in a warehouse.", {
        "sku": s("Product SKU"),
        "warehouse": e("Warehouse", ["berlin", "rotterdam", "lyon", "milan"]),
        "delta": i("Units to add (positive) or remove (negative)"),
        "reason": e("Reason", ["restock", "damaged", "returned", "count_correction"]),
    }, ["sku", "warehouse", "delta"]),
    fn("checkStockLevel", "Check how many units of a product are in stock.", {
        "sku": s("Product SKU"),
        "warehouse": e("Warehouse; omit for all", ["berlin", "rotterdam", "lyon", "milan"]),
    }, ["sku"]),
    fn("crm.create_lead", "Create a sales lead in the CRM.", {
        "name": s("Contact person"),
        "company": s("Company"),
        "email": s("Contact email"),
        "source": e("Where the lead came from", ["website", "referral", "trade_show",
                                                 "cold_call"]),
        "estimated_value": n("Estimated deal value", minimum=0),
    }, ["name", "company", "source"]),
    fn("crm.update_deal_stage", "Move a CRM deal to another pipeline stage.", {
        "deal_id": s("Deal ID, e.g. D-1042"),
        "stage": e("New stage", ["prospecting", "qualification", "proposal", "negotiation",
                                 "closed_won", "closed_lost"]),
        "note": s("Why it moved"),
    }, ["deal_id", "stage"]),
    fn("timesheet.log_hours", "Log hours worked on a project.", {
        "project_code": s("Project code like PRJ-123", pattern="^PRJ-[0-9]{3}$"),
        "date": s("Day worked", **DATE),
        "hours": n("Hours worked", minimum=0.25, maximum=24),
        "billable": b("Billable to the client", default=True),
    }, ["project_code", "date", "hours"]),
    fn("hr.request_leave", "Request time off.", {
        "leave_type": e("Kind of leave", ["annual", "sick", "parental", "unpaid"]),
        "start_date": s("First day off", **DATE),
        "end_date": s("Last day off", **DATE),
        "half_day": b("Only half of the day (single-day requests)", default=False),
        "note": s("Note to the manager"),
    }, ["leave_type", "start_date", "end_date"]),
    fn("hr.get_leave_balance", "Get remaining days of leave.", {
        "leave_type": e("Kind of leave; omit for all", ["annual", "sick", "parental", "unpaid"]),
    }),
    fn("it.create_ticket", "Open an IT support ticket.", {
        "summary": s("One-line summary", maxLength=120),
        "category": e("Area", ["hardware", "software", "network", "access"]),
        "priority": e("Urgency", ["low", "medium", "high", "critical"], default="medium"),
        "description": s("Details"),
    }, ["summary", "category"]),
    fn("it.reset_password", "Reset a user's password on a company system.", {
        "username": s("Account name"),
        "system": e("System", ["email", "vpn", "erp", "wiki"]),
    }, ["username", "system"]),
    fn("deploy_service", "Deploy a version of a service.", {
        "service": s("Service name"),
        "environment": e("Target", ["staging", "production"]),
        "version": s("Semantic version like 1.4.2", pattern="^[0-9]+\\.[0-9]+\\.[0-9]+$"),
        "canary_percent": i("Share of traffic for a canary; omit for a full rollout",
                            minimum=1, maximum=50),
    }, ["service", "environment", "version"]),
    fn("dns.add_record", "Add a DNS record to a domain.", {
        "domain": s("Domain, e.g. example.com"),
        "record_type": e("Record type", ["A", "AAAA", "CNAME", "MX", "TXT"]),
        "name": s("Host name relative to the domain; @ for the apex"),
        "value": s("Record value"),
        "ttl": i("Time to live in seconds", minimum=60, default=3600),
    }, ["domain", "record_type", "name", "value"]),
    fn("schedule_backup", "Schedule a one-off database backup.", {
        "database": s("Database name"),
        "at": s("When to run", **DT),
        "retention_days": i("How long to keep it", minimum=1, maximum=365, default=30),
    }, ["database", "at"]),
    fn("repo.open_issue", "Open an issue in a code repository.", {
        "repository": s("owner/name"),
        "title": s("Issue title"),
        "body": s("Issue text"),
        "labels": arr("Labels", {"type": "string"}),
    }, ["repository", "title"]),
    # --- food, shopping, delivery
    fn("find_recipes", "Find recipes that use given ingredients.", {
        "ingredients": arr("Ingredients to use", {"type": "string"}, minItems=1),
        "max_prep_minutes": i("Longest preparation time", minimum=5),
        "diet": e("Dietary restriction", ["none", "vegetarian", "vegan", "gluten_free"],
                  default="none"),
    }, ["ingredients"]),
    fn("scale_recipe", "Rescale a saved recipe to a number of servings.", {
        "recipe_id": s("Saved recipe ID or title"),
        "servings": i("Servings wanted", minimum=1, maximum=100),
    }, ["recipe_id", "servings"]),
    fn("order_food", "Order food for delivery from a restaurant.", {
        "restaurant": s("Restaurant name"),
        "items": arr("Dishes", obj("One dish", {
            "name": s("Dish"),
            "quantity": i("How many", minimum=1),
            "notes": s("Special requests"),
        }, ["name", "quantity"]), minItems=1),
        "tip_percent": n("Tip as a percentage", minimum=0, maximum=50),
    }, ["restaurant", "items"]),
    fn("makeReservation", "Reserve a table at a restaurant.", {
        "restaurant": s("Restaurant name"),
        "date": s("Day", **DATE),
        "time": s("Time HH:MM (24h)", pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        "partySize": i("Number of people", minimum=1, maximum=20),
        "seating": e("Seating preference", ["indoor", "outdoor", "bar"]),
    }, ["restaurant", "date", "time", "partySize"]),
    fn("add_to_shopping_list", "Add items to a shopping list.", {
        "items": arr("Items", obj("One item", {
            "name": s("Item"),
            "quantity": n("Amount", exclusiveMinimum=0),
            "unit": s("Unit, e.g. kg, l, pack"),
        }, ["name"]), minItems=1),
        "list_name": s("Which list", default="Groceries"),
    }, ["items"]),
    fn("create_shipment", "Create a parcel shipment and buy the label.", {
        "recipient": obj("Who receives it", {
            "name": s("Full name"),
            "street": s("Street and number"),
            "city": s("City"),
            "postal_code": s("Postal code"),
            "country": s("ISO 3166-1 alpha-2 code", pattern="^[A-Z]{2}$"),
        }, ["name", "street", "city", "postal_code", "country"]),
        "weight_kg": n("Parcel weight in kg", exclusiveMinimum=0, maximum=30),
        "service": e("Speed", ["standard", "express", "overnight"], default="standard"),
    }, ["recipient", "weight_kg"]),
    fn("trackPackage", "Track a parcel by its tracking number.", {
        "trackingNumber": s("Tracking number without spaces"),
        "carrier": e("Carrier", ["ups", "fedex", "dhl", "usps"]),
    }, ["trackingNumber"]),
    # --- health, fitness
    fn("log_workout", "Log a completed workout.", {
        "activity": e("Activity", ["run", "cycle", "swim", "row", "walk", "yoga"]),
        "duration_min": i("Duration in minutes", minimum=1),
        "distance_km": n("Distance in km", minimum=0),
        "date": s("Day of the workout", **DATE),
    }, ["activity", "duration_min", "date"]),
    fn("fitness.get_weekly_summary", "Summarise workouts of the week starting on a Monday.", {
        "week_start": s("Monday of the week", **DATE),
    }, ["week_start"]),
    fn("book_fitness_class", "Book a place in a gym class.", {
        "class_name": s("Class, e.g. spin, pilates"),
        "start": s("Class start time", **DT),
        "studio": e("Studio", ["downtown", "riverside", "north"]),
    }, ["class_name", "start", "studio"]),
    fn("book_medical_appointment", "Book a medical appointment.", {
        "specialty": e("Specialty", ["general_practice", "dermatology", "cardiology",
                                     "dentistry", "physiotherapy", "ophthalmology"]),
        "preferred_date": s("Preferred day", **DATE),
        "time_of_day": e("Part of the day", ["morning", "afternoon", "evening"]),
        "patient": obj("The patient", {
            "first_name": s("First name"),
            "last_name": s("Last name"),
            "date_of_birth": s("Birth date", **DATE),
        }, ["first_name", "last_name"]),
    }, ["specialty", "preferred_date", "patient"]),
    fn("cancelAppointment", "Cancel a booked appointment by its ID.", {
        "appointmentId": s("Appointment ID"),
        "reason": s("Why it is cancelled"),
    }, ["appointmentId"]),
    fn("pet.schedule_vet_visit", "Book a vet visit for a pet.", {
        "pet_name": s("Pet's name"),
        "species": e("Species", ["dog", "cat", "rabbit", "bird"]),
        "reason": s("Reason for the visit"),
        "date": s("Day", **DATE),
    }, ["pet_name", "species", "reason", "date"]),
    # --- parking, library, leisure
    fn("parking.reserve_spot", "Reserve a spot in a parking garage.", {
        "garage": s("Garage name"),
        "start": s("Arrival", **DT),
        "end": s("Departure", **DT),
        "plate": s("Licence plate"),
        "ev_charging": b("Spot with a charger", default=False),
    }, ["garage", "start", "end", "plate"]),
    fn("pay_parking_meter", "Pay for street parking in a zone.", {
        "zone": i("Parking zone number"),
        "plate": s("Licence plate"),
        "minutes": i("How long", minimum=15, maximum=240),
    }, ["zone", "plate", "minutes"]),
    fn("library.search_catalog", "Search the public library catalogue.", {
        "query": s("Title, author or subject"),
        "format": e("Media format", ["book", "ebook", "audiobook", "dvd"]),
        "available_only": b("Only items on the shelf now", default=False),
    }, ["query"]),
    fn("library.renew_loan", "Renew a library loan.", {
        "loan_id": s("Loan ID"),
        "weeks": i("Extra weeks", minimum=1, maximum=3, default=2),
    }, ["loan_id"]),
    fn("music_play", "Play music.", {
        "query": s("What to play"),
        "type": e("What the query names", ["track", "album", "artist", "playlist"]),
        "shuffle": b("Shuffle", default=False),
    }, ["query", "type"]),
    fn("addToPlaylist", "Add tracks to one of the user's playlists.", {
        "playlistName": s("Playlist"),
        "trackTitles": arr("Tracks to add", {"type": "string"}, minItems=1),
    }, ["playlistName", "trackTitles"]),
    fn("podcast.subscribe", "Subscribe to a podcast.", {
        "show": s("Podcast name"),
        "auto_download": b("Download new episodes automatically", default=False),
    }, ["show"]),
    fn("movie_showtimes", "List showtimes of a film in a city on a day.", {
        "movie_title": s("Film title"),
        "city": s("City"),
        "date": s("Day", **DATE),
    }, ["movie_title", "city", "date"]),
    fn("buy_event_tickets", "Buy tickets for an event by its ID.", {
        "event_id": s("Event ID"),
        "quantity": i("Tickets", minimum=1, maximum=8),
        "section": e("Section", ["floor", "lower", "upper", "balcony"]),
    }, ["event_id", "quantity"]),
    fn("get_match_score", "Get the score of a team's match on a day.", {
        "team": s("Team name"),
        "sport": e("Sport", ["football", "basketball", "tennis", "hockey", "baseball"]),
        "date": s("Match day; omit for the latest match", **DATE),
    }, ["team", "sport"]),
    # --- misc
    fn("convert_units", "Convert a measurement between units.", {
        "value": n("The quantity"),
        "from_unit": e("Source unit", ["km", "mi", "m", "ft", "kg", "lb", "celsius",
                                       "fahrenheit", "l", "gal"]),
        "to_unit": e("Target unit", ["km", "mi", "m", "ft", "kg", "lb", "celsius",
                                     "fahrenheit", "l", "gal"]),
    }, ["value", "from_unit", "to_unit"]),
    fn("search_listings", "Search property listings.", {
        "city": s("City"),
        "listing_type": e("Rent or buy", ["rent", "sale"]),
        "max_price": i("Highest price (monthly rent or sale price)", minimum=0),
        "min_bedrooms": i("Fewest bedrooms", minimum=0, default=0),
        "pets_allowed": b("Pets allowed"),
    }, ["city", "listing_type"]),
    fn("jobs.search", "Search job postings.", {
        "title": s("Job title or keywords"),
        "location": s("City or region"),
        "remote": b("Remote jobs only", default=False),
        "min_salary": i("Lowest yearly salary", minimum=0),
    }, ["title"]),
    fn("enroll_course", "Enrol a student in a course.", {
        "student_id": s("Student ID"),
        "course_code": s("Course code like CS101", pattern="^[A-Z]{2,4}[0-9]{3}$"),
        "term": e("Term", ["spring_2026", "summer_2026", "fall_2026"]),
    }, ["student_id", "course_code", "term"]),
    fn("notes.create_note", "Create a note.", {
        "title": s("Title"),
        "body": s("Note text"),
        "tags": arr("Tags", {"type": "string"}),
        "pinned": b("Pin to the top", default=False),
    }, ["title", "body"]),
    fn("lookup_definition", "Look up the dictionary definition of an English word.", {
        "word": s("The word"),
    }, ["word"]),
]
