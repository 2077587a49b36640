// The built-in tools of the synthetic data generators, compiled in so `toolsft gen` needs no
// file; configs/tools/default_tools.json holds the same text (a test keeps them equal).
#include "data/gen_tools.h"

namespace tsft {

const char* builtin_tools_json() {
  return R"json([
  {
    "type": "function",
    "function": {
      "name": "calculator",
      "description": "Evaluate an arithmetic expression and return the number",
      "parameters": {
        "type": "object",
        "properties": {
          "expression": {"type": "string", "description": "The expression, e.g. (3 + 4) * 2", "minLength": 1},
          "precision": {"type": "integer", "description": "Decimal places in the answer", "minimum": 0, "maximum": 10}
        },
        "required": ["expression"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "What is {expression}?",
        "Calculate {expression}.",
        "compute {expression}",
        "{expression} = ?",
        "Can you work out {expression} for me?",
        "Please evaluate {expression}.",
        "How much is {expression}?",
        "I need the result of {expression}, rounded to {precision} decimal places.",
        "Solve {expression} and give me {precision} decimals.",
        "Quick math: {expression}",
        "My calculator is broken. What does {expression} come to?",
        "I'm checking my homework. Is my answer right for {expression}? Please work it out.",
        "What do you get if you compute {expression}?",
        "Help me with this sum: {expression}",
        "Could you do the arithmetic for {expression}?",
        "Evaluate the expression {expression} with {precision} digits after the decimal point.",
        "Splitting a bill with friends. What's {expression}?",
        "tell me {expression}"
      ],
      "x-toolsft-hard-examples": [
        "What is {expression}? I need it before I check the weather for my trip.",
        "Before I email my teacher, calculate {expression}.",
        "I searched the web but found nothing useful. Just compute {expression}.",
        "Translate this into a number for me: {expression}"
      ]
    }
  },
  {
    "type": "function",
    "function": {
      "name": "get_weather",
      "description": "Get the current weather or a forecast for a city",
      "parameters": {
        "type": "object",
        "properties": {
          "city": {"type": "string", "description": "City name", "minLength": 1},
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
          "days": {"type": "integer", "description": "Forecast length in days", "minimum": 1, "maximum": 14},
          "coordinates": {
            "type": "object",
            "description": "Exact position when the city name is ambiguous",
            "properties": {
              "lat": {"type": "number", "minimum": -90, "maximum": 90},
              "lon": {"type": "number", "minimum": -180, "maximum": 180}
            },
            "required": ["lat", "lon"],
            "additionalProperties": false
          }
        },
        "required": ["city"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "What's the weather in {city}?",
        "Weather in {city}",
        "How hot is it in {city} right now, in {unit}?",
        "Is it raining in {city}?",
        "Do I need an umbrella in {city} today?",
        "Give me the {days}-day forecast for {city}.",
        "What will the weather be like in {city} over the next {days} days?",
        "I'm flying to {city} tomorrow. Should I pack a coat?",
        "Could you check the temperature in {city} in {unit}, please?",
        "forecast {city} {days} days",
        "How cold is it in {city}?",
        "Tell me the current conditions in {city}.",
        "Is it sunny in {city} at the moment?",
        "What's the weather at {coordinates.lat}, {coordinates.lon} near {city}?",
        "Check the weather for {city} (lat {coordinates.lat}, lon {coordinates.lon}) in {unit}.",
        "We're planning a picnic in {city}. What's the forecast for the next {days} days?",
        "Will it snow in {city} this week? Show me {days} days.",
        "Temperature in {city} in {unit}?"
      ],
      "x-toolsft-hard-examples": [
        "Calculate whether I need a jacket: what's the weather in {city}?",
        "Before I send an email to my boss, tell me the weather in {city}.",
        "Don't search the web, just get me the weather in {city}.",
        "Remind me what the weather is in {city} right now."
      ]
    }
  },
  {
    "type": "function",
    "function": {
      "name": "set_reminder",
      "description": "Set a reminder for a task on a date, optionally at a time",
      "parameters": {
        "type": "object",
        "properties": {
          "task": {"type": "string", "description": "What to be reminded of", "minLength": 1},
          "date": {"type": "string", "format": "date", "description": "Day of the reminder (YYYY-MM-DD)"},
          "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "Time of day, 24-hour HH:MM"},
          "urgent": {"type": "boolean", "description": "Mark the reminder as urgent"}
        },
        "required": ["task", "date"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "Remind me to {task} on {date}.",
        "Set a reminder to {task} on {date} at {time}.",
        "remind me {date} at {time} to {task}",
        "Can you remind me to {task} on {date}?",
        "Don't let me forget to {task} on {date}.",
        "Please set a reminder for {date}: {task}.",
        "I keep forgetting things. On {date} at {time}, remind me to {task}.",
        "Create an urgent reminder{urgent=true} to {task} on {date}.",
        "Reminder: {task}, {date}, {time}",
        "Could you ping me on {date} at {time} so I remember to {task}?",
        "Set an alarm-style reminder for {date} at {time}: {task}.",
        "On {date} I need to {task}. Remind me, and mark it as important{urgent=true}.",
        "Add a reminder to {task} on {date}, not urgent{urgent=false}.",
        "Make a note to remind me to {task} on {date}.",
        "I have to {task} on {date}. Can you make sure I remember?",
        "set reminder {task} {date}"
      ],
      "x-toolsft-hard-examples": [
        "Remind me to check the weather on {date} at {time}.",
        "Set a reminder to email the report on {date}.",
        "Remind me to search for flights on {date}.",
        "Remind me to calculate my taxes on {date} at {time}."
      ]
    }
  },
  {
    "type": "function",
    "function": {
      "name": "search_web",
      "description": "Search the web and return the top results for a query",
      "parameters": {
        "type": "object",
        "properties": {
          "query": {"type": "string", "description": "Search query", "minLength": 1},
          "max_results": {"type": "integer", "description": "How many results to return", "minimum": 1, "maximum": 20},
          "recent_only": {"type": "boolean", "description": "Only results from the past month"}
        },
        "required": ["query"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "Search the web for {query}.",
        "Look up {query}.",
        "google {query}",
        "Find me some articles about {query}.",
        "Can you search for {query}?",
        "What does the internet say about {query}?",
        "I'm writing a report. Search for {query} and give me the top {max_results} results.",
        "Find the latest news on {query}{recent_only=true}.",
        "Search for {query}, only recent results please{recent_only=true}.",
        "Look online for {query} and show {max_results} links.",
        "I want to learn more about {query}. Could you find some sources?",
        "Do a web search on {query}.",
        "search {query}",
        "Please find information about {query} on the web.",
        "Any recent articles about {query}{recent_only=true}? Show me {max_results}.",
        "Who has written about {query}? Search the web."
      ],
      "x-toolsft-hard-examples": [
        "Search the web for the weather formula for my calculator essay.",
        "Search for how to translate {query} into other languages.",
        "Find articles about the best email reminders apps and {query}.",
        "Look up why the weather affects {query}."
      ]
    }
  },
  {
    "type": "function",
    "function": {
      "name": "translate_text",
      "description": "Translate text into another language",
      "parameters": {
        "type": "object",
        "properties": {
          "text": {"type": "string", "description": "Text to translate", "minLength": 1},
          "target_language": {"type": "string", "enum": ["Spanish", "French", "German", "Italian", "Portuguese"]},
          "source_language": {"type": "string", "enum": ["English", "Spanish", "French", "German", "Italian", "Portuguese"]}
        },
        "required": ["text", "target_language"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "Translate '{text}' into {target_language}.",
        "How do you say '{text}' in {target_language}?",
        "translate to {target_language}: {text}",
        "Can you put '{text}' into {target_language} for me?",
        "What is '{text}' in {target_language}?",
        "Please translate this {source_language=\"English\"} sentence into {target_language}: '{text}'",
        "I'm visiting a friend abroad. How would I say '{text}' in {target_language}?",
        "{target_language} translation of '{text}', please.",
        "Could you translate '{text}' from {source_language=\"English\"} to {target_language}?",
        "Render '{text}' in {target_language}.",
        "My pen pal speaks {target_language}. Translate: '{text}'",
        "Say '{text}' in {target_language}."
      ],
      "x-toolsft-hard-examples": [
        "Translate '{text}' into {target_language} so I can email it to my host.",
        "Translate the weather report phrase '{text}' into {target_language}.",
        "I searched online but couldn't find it: what is '{text}' in {target_language}?",
        "Translate '{text}' into {target_language} before I set a reminder to say it."
      ]
    }
  },
  {
    "type": "function",
    "function": {
      "name": "send_email",
      "description": "Send an email to one or more recipients",
      "parameters": {
        "type": "object",
        "properties": {
          "to": {"type": "array", "items": {"type": "string", "pattern": "^[^@ ]+@[^@ ]+$"}, "minItems": 1, "maxItems": 3, "uniqueItems": true},
          "subject": {"type": "string", "minLength": 1},
          "body": {"type": "string", "minLength": 1},
          "send_at": {"type": "string", "format": "date-time", "description": "When to send; now if absent"},
          "options": {
            "type": "object",
            "properties": {
              "priority": {"type": "string", "enum": ["low", "normal", "high"]},
              "cc": {"type": "array", "items": {"type": "string", "pattern": "^[^@ ]+@[^@ ]+$"}, "maxItems": 3}
            },
            "additionalProperties": false
          }
        },
        "required": ["to", "subject", "body"],
        "additionalProperties": false
      },
      "x-toolsft-examples": [
        "Send an email to {to} with the subject '{subject}' saying: {body}",
        "Email {to} about '{subject}': {body}",
        "Write to {to}. Subject: {subject}. Message: {body}",
        "Please email {to}, subject '{subject}', and tell them: {body}",
        "Could you send {to} a message titled '{subject}'? It should say: {body}",
        "Drop {to} a quick email, subject '{subject}': {body}",
        "Send a {options.priority=\"high\"} priority email to {to} with subject '{subject}': {body}",
        "Email {to} with subject '{subject}' and cc {options.cc}. Body: {body}",
        "Schedule an email to {to} for {send_at}, subject '{subject}', saying: {body}",
        "Send {to} an email on {send_at} with the subject '{subject}': {body}",
        "I need to let {to} know something. Subject '{subject}', text: {body}",
        "mail {to} subject {subject} body {body}",
        "Send a {options.priority=\"low\"} priority note to {to} titled '{subject}': {body}"
      ],
      "x-toolsft-hard-examples": [
        "Email {to} the weather report, subject '{subject}': {body}",
        "Send {to} an email with the subject '{subject}' asking them to search for it: {body}",
        "Translate nothing, just email {to} with subject '{subject}': {body}",
        "Send {to} a reminder email, subject '{subject}': {body}"
      ]
    }
  }
]
)json";
}

}  // namespace tsft
