// Unit tests of the Jinja interpreter: whitespace rules, expressions, filters, tests, loops,
// macros, namespaces and error positions. Every expected string in kCases is what jinja2 3.1.6
// printed with transformers' settings (trim_blocks, lstrip_blocks, loopcontrols, its tojson).
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

using json = nlohmann::ordered_json;

std::string render(const std::string& src, const json& extra = json::object()) {
  return tsft::ChatTemplate(src, "t.jinja").render(json::array(), json(), false, extra);
}

std::string error_of(const std::string& src, const json& extra = json::object()) {
  try {
    render(src, extra);
  } catch (const tsft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Case {
  const char* source;
  const char* expected;
};

// Grouped as: whitespace control, expressions, tests, filters, methods, loops, macros/blocks.
const Case kCases[] = {
    {R"J(a
  {% if true %}
  x
  {% endif %}
b)J",
     R"J(a
  x
b)J"},
    {R"J(a  {% if true %}x{% endif %}  b)J",
     R"J(a  x  b)J"},
    {R"J({% if true %}
x{% endif %}
)J",
     R"J(x)J"},
    {R"J(a
  {%+ if true %}x{% endif %})J",
     R"J(a
  x)J"},
    {R"J(a
  {{ 1 }}
  {# c #}
b)J",
     R"J(a
  1
b)J"},
    {R"J(a  {#- c -#}  b)J",
     R"J(ab)J"},
    {R"J(x {{- ' y ' -}} z)J",
     R"J(x y z)J"},
    {R"J({% for i in [1,2] %}
  {{ i }}
{% endfor %})J",
     R"J(  1
  2
)J"},
    {R"J({% for i in [1,2] -%}
  {{ i }}
{%- endfor %})J",
     R"J(12)J"},
    {R"J(a
{% if true +%}
x{% endif %})J",
     R"J(a

x)J"},
    {R"J(  {% raw %}{{ x }}{% endraw %})J",
     R"J({{ x }})J"},
    {R"J(line
next
)J",
     R"J(line
next)J"},
    {R"J({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }})J",
     R"J(7 9 64 4)J"},
    {R"J({{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7.5 % 2 }} {{ 6 / 3 }})J",
     R"J(3.5 3 -4 2 1.5 2.0)J"},
    {R"J({{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 2 }})J",
     R"J(True True a1None abab)J"},
    {R"J({{ not 1 and 0 }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }})J",
     R"J(False x y [])J"},
    {R"J({{ 'b' in 'abc' }} {{ 2 not in [1, 2] }} {{ 'k' in {'k': 1} }})J",
     R"J(True False True)J"},
    {R"J({{ 'yes' if 0 else 'no' }} {{ 'y' if 1 }}|{{ 'y' if 0 }}|)J",
     R"J(no y||)J"},
    {R"J({{ [1, 'a', none, true, 1.5] }} {{ {'a': [1, {'b': 'c'}]} }} {{ (1, 2) }})J",
     R"J([1, 'a', None, True, 1.5] {'a': [1, {'b': 'c'}]} (1, 2))J"},
    {R"J({{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 3.0 }} {{ 1/3 }} {{ 12345678901234567.0 }})J",
     R"J(0.30000000000000004 1e+20 1e-05 3.0 0.3333333333333333 1.2345678901234568e+16)J"},
    {R"J({{ 'abcdef'[1:4] }} {{ 'abcdef'[::-1] }} {{ [1,2,3,4][-2:] }} {{ [1,2,3,4][::2] }} {{ 'héllo'[1] }})J",
     R"J(bcd fedcba [3, 4] [1, 3] é)J"},
    {R"J({{ "it's" }} {{ ['it\'s', "q\""] }} {{ 'tab\there' }} {{ '\u00e9' }})J",
     R"J(it's ["it's", 'q"'] tab	here é)J"},
    {R"J({{ x is defined }} {{ x is undefined }} {{ none is none }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }})J",
     R"J(False True True True True True True True True True)J"},
    {R"J({{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'x' is sequence }} {{ true is boolean }} {{ false is false }} {{ 1 is true }} {{ 'AB' is upper }} {{ 'ab' is lower }} {{ 2 is eq 2 }} {{ 3 is not equalto 3 }})J",
     R"J(True True True True True True False True True True False)J"},
    {R"J({{ '  x  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'hello world-foo' | title }}|{{ 'hELLO' | capitalize }}|{{ 'a' | upper }}{{ 'B' | lower }})J",
     R"J(x|a|Hello World-Foo|Hello|Ab)J"},
    {R"J({{ [1,2,3] | length }} {{ 'héllo' | length }} {{ {'a':1} | count }} {{ [3,1,2] | first }} {{ [3,1,2] | last }} {{ [1,2] | join(', ') }})J",
     R"J(3 5 1 3 2 1, 2)J"},
    {R"J({{ x | default('d') }} {{ '' | default('d', true) }} {{ none | d('n') }} {{ 'aXbX' | replace('X', '-') }} {{ 'aaa' | replace('a', 'b', 2) }})J",
     R"J(d d None a-b- bba)J"},
    {R"J({{ 42 | string ~ 'x' }} {{ '12' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 'ab' | list }} {{ {'a': 1, 'b': 2} | items | list }})J",
     R"J(42x 13 0 3 2.5 ['a', 'b'] [('a', 1), ('b', 2)])J"},
    {R"J({% set xs = [{'n': 'a', 'v': 1}, {'n': 'b', 'v': 0}, {'n': 'c', 'v': 2}] %}{{ xs | selectattr('v') | map(attribute='n') | join }} {{ xs | rejectattr('v') | map(attribute='n') | list }} {{ xs | selectattr('n', 'equalto', 'c') | list | length }})J",
     R"J(ac ['b'] 1)J"},
    {R"J({{ [1,2,3,4] | select('odd') | list }} {{ [1,2,3,4] | reject('odd') | list }} {{ ['a','B'] | map('upper') | list }} {{ [3,1,2,1] | unique | list }} {{ [3,1,2] | sort }} {{ [3,1,2] | sort(reverse=true) }} {{ ['b','A','c'] | sort }})J",
     R"J([1, 3] [2, 4] ['A', 'B'] [3, 1, 2] [1, 2, 3] [3, 2, 1] ['A', 'b', 'c'])J"},
    {R"J({{ [1,2] | reverse | list }} {{ 'abc' | reverse }} {{ '<a>' | safe }} {{ '<a href="x">&' | e }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ [3,1,2] | min }} {{ [3,1,2] | max }} {{ [1,2,3] | sum }})J",
     R"J([2, 1] cba <a> &lt;a href=&#34;x&#34;&gt;&amp; 3 2.57 2.0 1 3 6)J"},
    {R"J({{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb' | indent(2, blank=true) }})J",
     R"J(a
  b

  c|  a
  b|a
  
  b)J"},
    {R"J({{ [1,2,3,4,5] | batch(2) | list }} {{ {'b': 1, 'a': 2} | dictsort }})J",
     R"J([[1, 2], [3, 4], [5]] [('a', 2), ('b', 1)])J"},
    {R"J({{ {'a': [1, 2.5, none, true], 'é': 'ü"\n'} | tojson }}|{{ {'a': [1, {'b': {}}], 'c': []} | tojson(indent=2) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [1, 2] | tojson(separators=(',', ':')) }})J",
     R"J({"a": [1, 2.5, null, true], "é": "ü\"\n"}|{
  "a": [
    1,
    {
      "b": {}
    }
  ],
  "c": []
}|{"a": 2, "b": 1}|[1,2])J"},
    {R"J({{ '  ab  '.strip() }}|{{ 'xxabxx'.lstrip('x') }}|{{ 'xxabxx'.rstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }})J",
     R"J(ab|abxx|xxab|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c'])J"},
    {R"J({{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'bc')) }} {{ 'aXa'.replace('a', 'b') }} {{ 'ab'.upper() }} {{ 'hello world'.title() }} {{ 'abcb'.find('b') }} {{ 'abcb'.count('b') }} {{ '-'.join(['a', 'b']) }})J",
     R"J(True True bXb AB Hello World 1 2 a-b)J"},
    {R"J({% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 0) }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.a }} {{ d['b'] }} {{ d.zz is defined }})J",
     R"J(1 None 0 [('a', 1), ('b', 2)] ['a', 'b'] [1, 2] 1 2 False)J"},
    {R"J({% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %})J",
     R"J(10TrueFalse332;21FalseFalse321;32FalseTrue310;)J"},
    {R"J({% for x in [1,2,3] %}{{ loop.previtem | default('-') }}{{ x }}{{ loop.nextitem | default('-') }} {% endfor %})J",
     R"J(-12 123 23- )J"},
    {R"J({% for x in range(10) if x is odd %}{{ x }}/{{ loop.length }} {% endfor %})J",
     R"J(1/5 3/5 5/5 7/5 9/5 )J"},
    {R"J({% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %})J",
     R"J(a=1;b=2;37)J"},
    {R"J({% for x in [] %}x{% else %}empty{% endfor %}{% for x in range(5) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %})J",
     R"J(empty02)J"},
    {R"J({% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ x }}{% endfor %}{% for d in {'q': 1} %}{{ d }}{% endfor %})J",
     R"J(oaebq)J"},
    {R"J({% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }})J",
     R"J(21)J"},
    {R"J({% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }})J",
     R"J(6 0123)J"},
    {R"J({% for row in [[1,2],[3]] %}{% for c in row %}{{ loop.index }}{{ c }}{% endfor %}/{{ loop.index }} {% endfor %})J",
     R"J(1122/1 13/2 )J"},
    {R"J({% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet('C', 'Yo') }})J",
     R"J(Hello, Ann! Hi, Bob! Yo, C!)J"},
    {R"J({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }})J",
     R"J(120)J"},
    {R"J({% set block %}  inner {{ 1 }}  {% endset %}[{{ block }}]{% set t %}ab{% endset %}{{ t | upper }}{% filter upper %}shout {{ 'x' }}{% endfilter %})J",
     R"J([  inner 1  ]ABSHOUT X)J"},
    {R"J({% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}body{% endcall %})J",
     R"J(<body>)J"},
    {R"J({% set a, b = 1, 2 %}{{ a }}{{ b }}{% set l = [1, 2] + [3] %}{{ l }}{{ l[0] }}{{ l[-1] }}{{ l[5] is defined }})J",
     R"J(12[1, 2, 3]13False)J"},
    {R"J({{ 'a' 'b' }} {{ [1, 2,] }} {{ {'x': 1,} }} {{ (1,) }} {{ () }})J",
     R"J(ab [1, 2] {'x': 1} (1,) ())J"},
};

TEST(Jinja, RendersLikeJinja2) {
  for (const auto& c : kCases) {
    std::string got;
    try {
      got = render(c.source);
    } catch (const tsft::Error& e) {
      got = std::string("error: ") + e.what();
    }
    EXPECT_EQ(got, c.expected) << "template: " << c.source;
  }
}

TEST(Jinja, ChainedComparisonsAndLenientSubscripts) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1 != 2 }} {{ 'a' in 'ab' in ['ab'] }}"),
            "True False True True");
  // jinja2 turns subscripting a number into an undefined value, not an error.
  EXPECT_EQ(render("{{ [1, 2, 1].count(1) }} {{ ['a', 'b'].index('b') }}"), "2 1");
  EXPECT_EQ(render("[{{ (5)[1:] }}][{{ (2.5)[0] }}] {{ 2 | round(1) }} {{ 2.25 | round(1) }}"), "[][] 2 2.2");
}

TEST(Jinja, CallerVariablesAndUndefined) {
  json extra = {{"user", {{"name", "Ann"}, {"tags", {"a", "b"}}}}, {"n", 3}};
  EXPECT_EQ(render("{{ user.name }} {{ user['tags'] | join('+') }} {{ user.missing }}|{{ n * 2 }}", extra),
            "Ann a+b |6");
  // Undefined prints as nothing, is falsy, iterates as empty and has length 0.
  EXPECT_EQ(render("[{{ nothing }}]{% if not nothing %}F{% endif %}{% for x in nothing %}x{% endfor %}{{ nothing | length }}"),
            "[]F0");
  // ...but an attribute of undefined is an error, as in jinja2.
  EXPECT_EQ(error_of("{{ user.missing.deeper }}", extra), "t.jinja:1:4: 'missing' is undefined");
}

TEST(Jinja, ErrorsNameTemplateLineAndColumn) {
  EXPECT_EQ(error_of("a\n  {% endfor %}"), "t.jinja:2:6: unexpected 'endfor'");
  EXPECT_EQ(error_of("{% if x %}\nno end"), "t.jinja:2:7: unexpected end of template, expected 'endif'");
  EXPECT_EQ(error_of("{{ 1 + }}"), "t.jinja:1:8: unexpected end of print statement");
  EXPECT_EQ(error_of("{% frobnicate %}"), "t.jinja:1:4: unknown tag 'frobnicate'");
  EXPECT_EQ(error_of("x\n{{ 'a' | nosuch }}"), "t.jinja:2:10: no filter named 'nosuch'");
  EXPECT_EQ(error_of("{{ raise_exception('boom') }}"), "t.jinja:1:4: boom");
  EXPECT_EQ(error_of("\n\n   {{ nothing.attr }}"), "t.jinja:3:7: 'nothing' is undefined");
  EXPECT_EQ(error_of("{{ nothing() }}"), "t.jinja:1:4: 'nothing' is undefined");
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "t.jinja:1:8: unsupported operand type(s) for +: 'str' and 'int'");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"), "t.jinja:1:6: integer division or modulo by zero");
  EXPECT_EQ(error_of("{{ 'unterminated }}"), "t.jinja:1:4: unterminated string");
  EXPECT_EQ(error_of("{% for x in 5 %}{% endfor %}"), "t.jinja:1:4: 'int' object is not iterable");
}

TEST(Jinja, RefusesRunawayInputWithoutCrashing) {
  std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_NE(error_of("{{ " + deep + " }}").find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(5000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(5000, '[') + " }}").find("t.jinja:1:"), std::string::npos);
  std::string nested;
  for (int i = 0; i < 400; ++i) nested += "{% if true %}";
  EXPECT_NE(error_of(nested).find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("recursion"),
            std::string::npos);
  json deep_json = json::array();
  for (int i = 0; i < 1000; ++i) deep_json = json::array({deep_json});
  EXPECT_NE(error_of("{{ x }}", {{"x", deep_json}}).find("nested too deeply"), std::string::npos);
  EXPECT_EQ(error_of("{% set ns = namespace(a=1) %}{% set ns.me = {'x': [ns]} %}"),
            "t.jinja:1:33: cannot store a namespace inside itself");
  EXPECT_NE(error_of("{{ 9223372036854775807 + 1 }}").find("integer overflow"), std::string::npos);
  EXPECT_NE(error_of("{{ 3 ** 100 }}").find("integer overflow"), std::string::npos);
  EXPECT_EQ(render("{{ (-1) ** 1000001 }} {{ 2 ** 62 }} {{ 2 ** -1 }}"), "-1 4611686018427387904 0.5");
  EXPECT_NE(error_of("{{ 'ab' * 1000000000000 }}").find("too large"), std::string::npos);
  EXPECT_NE(error_of("{{ range(100000000) | length }}").find("too large"), std::string::npos);
  // Malformed input of every kind yields an error or output, never a crash.
  const char* junk[] = {"{{", "{%", "{#", "{{ }}", "{% %}", "{% if %}", "{{ [1, }}", "{{ {1: }}",
                        "{{ a[1:2:3:4] }}", "{% set %}", "{% for %}", "{% macro %}", "}}", "%}",
                        "{{ 'a' is }}", "{{ x | }}", "{% endraw %}", "{% raw %}", "{{ '\\x' }}"};
  for (const char* j : junk) {
    try {
      render(j);
    } catch (const tsft::Error&) {
    }
  }
}

}  // namespace
