// Chat templates rendered byte for byte as transformers renders them: the 57 published cases
// and the conversations tools/make_template_goldens.py generated with jinja2.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

using json = nlohmann::ordered_json;

const char* kModels[] = {"SmolLM2-135M-Instruct", "Qwen2.5-0.5B-Instruct", "Qwen3-0.6B",
                         "Llama-3.2-1B-Instruct"};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string model_dir(const std::string& model) {
  return std::string(TSFT_TEST_DATA_DIR) + "/chat_templates/" + model;
}

tsft::ChatTemplate load_template(const std::string& model) {
  tsft::ChatTemplate t(read_file(model_dir(model) + "/chat_template.jinja"), "chat_template.jinja");
  // The expected renders were made on 17 Dec 2025 (Llama 3.2 prints "Today Date").
  t.set_clock([] {
    std::tm tm{};
    tm.tm_year = 2025 - 1900;
    tm.tm_mon = 11;
    tm.tm_mday = 17;
    tm.tm_hour = 12;
    return std::chrono::system_clock::from_time_t(std::mktime(&tm));
  });
  return t;
}

// Where two renders first differ, with some context, for a readable failure.
std::string diff_location(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + "\n  want: " + json(want.substr(from, 100)).dump() +
         "\n  got:  " + json(got.substr(from, 100)).dump();
}

// Renders every case of `file`; returns {matched, total}.
std::pair<int, int> check_cases(const std::string& model, const std::string& file) {
  json data = json::parse(read_file(model_dir(model) + "/" + file));
  tsft::ChatTemplate tpl = load_template(model);
  int matched = 0, total = 0;
  for (const auto& c : data["cases"]) {
    ++total;
    json extra = data["special_tokens"];
    if (c.contains("extra"))
      for (auto it = c["extra"].begin(); it != c["extra"].end(); ++it) extra[it.key()] = it.value();
    json tools = c.contains("tools") ? c["tools"] : json();
    std::string desc = model + "/" + file + ": " + c["description"].get<std::string>();
    if (c.contains("expected_error")) {
      try {
        tpl.render(c["messages"], tools, c["add_generation_prompt"].get<bool>(), extra);
        ADD_FAILURE() << desc << ": expected an error";
      } catch (const tsft::Error& e) {
        std::string want = c["expected_error"].get<std::string>();
        if (std::string(e.what()).find(want) != std::string::npos) ++matched;
        else ADD_FAILURE() << desc << ": error '" << e.what() << "' lacks '" << want << "'";
      }
      continue;
    }
    try {
      std::string got = tpl.render(c["messages"], tools, c["add_generation_prompt"].get<bool>(), extra);
      std::string want = c["expected"].get<std::string>();
      if (got == want) ++matched;
      else ADD_FAILURE() << desc << ": " << diff_location(want, got);
    } catch (const tsft::Error& e) {
      ADD_FAILURE() << desc << ": threw " << e.what();
    }
  }
  return {matched, total};
}

TEST(ChatTemplate, PublishedCasesMatchTransformers) {
  int matched = 0, total = 0;
  for (const char* m : kModels) {
    auto [ok, n] = check_cases(m, "render_cases.json");
    matched += ok;
    total += n;
  }
  EXPECT_EQ(total, 57);
  EXPECT_EQ(matched, total);
}

TEST(ChatTemplate, GeneratedCasesMatchJinja2) {
  int matched = 0, total = 0;
  for (const char* m : kModels) {
    std::ifstream probe(model_dir(m) + "/generated_cases.json");
    if (!probe) continue;
    auto [ok, n] = check_cases(m, "generated_cases.json");
    matched += ok;
    total += n;
  }
  EXPECT_EQ(matched, total);
  std::printf("generated cases: %d of %d match\n", matched, total);
}

TEST(ChatTemplate, RaiseExceptionNamesPosition) {
  tsft::ChatTemplate tpl = load_template("Llama-3.2-1B-Instruct");
  json msgs = json::parse(R"([{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[
    {"type":"function","function":{"name":"a","arguments":{}}},
    {"type":"function","function":{"name":"b","arguments":{}}}]}])");
  try {
    tpl.render(msgs, json(), false, {{"bos_token", "<s>"}});
    FAIL() << "expected raise_exception";
  } catch (const tsft::Error& e) {
    EXPECT_NE(std::string(e.what()).find("chat_template.jinja:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("This model only supports single tool-calls at once!"), std::string::npos)
        << e.what();
  }
}

// Damaged templates (characters and Jinja fragments deleted, inserted, swapped) must give a
// tsft::Error or a render, never a crash or a hang: a deterministic small fuzz.
TEST(ChatTemplate, DamagedTemplatesNeverCrash) {
  const char* frags[] = {"{%", "%}", "{{", "}}", "{#", "#}", "-", "+", "(", ")", "[", "]", "'", "\"",
                         " if ", " for ", " endfor ", " endif ", " in ", " is ", "|", ".", ",", ":",
                         "loop", "ns", " not ", "*", "**", "//", "~", "\n", "0", "-1", "x"};
  json msgs = json::parse(R"([{"role":"system","content":"s"},{"role":"user","content":"hi"},
    {"role":"assistant","content":"ok","tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]},
    {"role":"tool","content":"r"},{"role":"user","content":"more"}])");
  json tools = json::parse(R"([{"type":"function","function":{"name":"f","parameters":{}}}])");
  uint64_t state = 12345;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>((state >> 33) % n);
  };
  int errors = 0, renders = 0;
  for (const char* model : kModels) {
    std::string base = read_file(model_dir(model) + "/chat_template.jinja");
    for (int iter = 0; iter < 300; ++iter) {
      std::string src = base;
      for (int edits = 1 + static_cast<int>(next(4)); edits > 0; --edits) {
        size_t pos = next(src.size() + 1);
        switch (next(3)) {
          case 0: src.erase(pos, 1 + next(6)); break;
          case 1: src.insert(pos, frags[next(sizeof(frags) / sizeof(frags[0]))]); break;
          default: if (pos + 1 < src.size()) std::swap(src[pos], src[pos + 1]);
        }
      }
      try {
        tsft::ChatTemplate tpl(src, "fuzz.jinja");
        tpl.render(msgs, next(2) ? tools : json(), next(2) == 1, {{"bos_token", "<s>"}});
        ++renders;
      } catch (const tsft::Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("fuzz.jinja:", 0), 0u) << e.what();
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(renders, 0);
}

TEST(ChatTemplate, ConcurrentRendersAgree) {
  tsft::ChatTemplate tpl = load_template("Qwen3-0.6B");
  json msgs = json::parse(R"([{"role":"system","content":"s"},{"role":"user","content":"hi"},
    {"role":"assistant","content":"<think>x</think>yes"}])");
  std::string want = tpl.render(msgs, json(), true);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (tpl.render(msgs, json(), true) != want) ++bad;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
