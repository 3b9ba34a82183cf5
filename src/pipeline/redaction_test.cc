// Redaction: each detector's true positives and near misses, the actions, key rules,
// per-project layers, HMAC stability, escapes inside JSON text, whole requests, and
// the policy file's errors (which must never quote the file).
#include "pipeline/redaction.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "pipeline/redaction_detectors.h"

namespace sightline::pipeline::redaction {
namespace {

using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::trace::v1::ResourceSpans;

const std::string kKey(32, 'k');

std::shared_ptr<const Policy> MustCompile(const std::string& toml, const std::string& key = kKey) {
  auto spec = ParsePolicy(toml, "redaction.toml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  if (!spec.ok()) return nullptr;
  auto p = Policy::Compile(*spec, key, "redaction.toml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : nullptr;
}

// A policy where only `detector` runs, with `action`.
std::string Only(const std::string& detector, const std::string& action = "mask") {
  std::string t = "[detectors]\n";
  for (const Detector& d : BuiltinDetectors())
    t += std::string(d.name) + " = \"" + (d.name == detector ? action : "off") + "\"\n";
  return t;
}

std::string Redact(const ProjectPolicy& p, std::string text, ProjectPolicy::Outcome* outcome = nullptr,
                   Counts* counts = nullptr) {
  Counts local;
  auto o = p.RedactText(&text, p.HmacKeyFor("default"), counts ? counts : &local);
  if (outcome) *outcome = o;
  return text;
}

struct Case {
  std::string detector;
  std::string input;
  std::string want;  // input itself: a near miss that must stay
};

class DetectorTest : public ::testing::TestWithParam<Case> {};

TEST_P(DetectorTest, MasksWhatItShouldAndNothingElse) {
  const Case& c = GetParam();
  auto policy = MustCompile(Only(c.detector));
  ASSERT_TRUE(policy);
  EXPECT_EQ(Redact(policy->For("default"), c.input), c.want) << c.detector << ": " << c.input;
}

const std::string kPem =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcT\n"
    "q7ZqoLp+Q2b1KXHqlkP3s=\n-----END RSA PRIVATE KEY-----";
const std::string kPemJsonEscaped =
    "{\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\nBKcwggSjAgEAAoIBAQ==\\n"
    "-----END PRIVATE KEY-----\\n\",\"ok\":1}";

INSTANTIATE_TEST_SUITE_P(
    Table, DetectorTest,
    ::testing::Values(
        // e-mail
        Case{"email", "write to john.doe+x@mail.example.co.uk today", "write to [REDACTED:email] today"},
        Case{"email", "user@localhost is not an address", "user@localhost is not an address"},
        Case{"email", "@handle and a@b", "@handle and a@b"},
        // phone
        Case{"phone", "call +1 415 555 0100 now", "call [REDACTED:phone] now"},
        Case{"phone", "call (415) 555-0100", "call [REDACTED:phone]"},
        Case{"phone", "fax 415.555.0100.", "fax [REDACTED:phone]."},
        Case{"phone", "+44 20 7946 0958", "[REDACTED:phone]"},
        Case{"phone", "on 2024-11-03 at 10:30:00", "on 2024-11-03 at 10:30:00"},
        Case{"phone", "+12 is a score", "+12 is a score"},
        Case{"phone", "version 1.2.3", "version 1.2.3"},
        // cards: Luhn-checked
        Case{"card", "card 4111 1111 1111 1111 exp", "card [REDACTED:card] exp"},
        Case{"card", "4111111111111111", "[REDACTED:card]"},
        Case{"card", "mc 5500-0000-0000-0004.", "mc [REDACTED:card]."},
        Case{"card", "amex 3782 822463 10005", "amex [REDACTED:card]"},
        Case{"card", "card 4111 1111 1111 1112 exp", "card 4111 1111 1111 1112 exp"},  // Luhn fails
        Case{"card", "ts 1733400000123 ms", "ts 1733400000123 ms"},                    // Luhn fails
        Case{"card", "0000 0000 0000 0000", "0000 0000 0000 0000"},
        Case{"card", "id 41111111111111110000", "id 41111111111111110000"},  // 22 digits
        // IBAN: mod-97 checked
        Case{"iban", "pay DE89 3704 0044 0532 0130 00 now", "pay [REDACTED:iban] now"},
        Case{"iban", "GB82WEST12345698765432", "[REDACTED:iban]"},
        Case{"iban", "FR1420041010050500013M02606", "[REDACTED:iban]"},
        Case{"iban", "pay DE89 3704 0044 0532 0130 01 now", "pay DE89 3704 0044 0532 0130 01 now"},
        Case{"iban", "GB82WEST12345698765433", "GB82WEST12345698765433"},
        // US SSN
        Case{"us_ssn", "ssn 123-45-6789.", "ssn [REDACTED:us_ssn]."},
        Case{"us_ssn", "000-12-3456 666-12-3456 912-34-5678", "000-12-3456 666-12-3456 912-34-5678"},
        Case{"us_ssn", "123-00-6789 123-45-0000", "123-00-6789 123-45-0000"},
        // IPv4 / IPv6
        Case{"ipv4", "from 10.0.0.1:8080", "from [REDACTED:ipv4]:8080"},
        Case{"ipv4", "192.168.1.254", "[REDACTED:ipv4]"},
        Case{"ipv4", "999.1.1.1 and 1.2.3.4.5 and 1.2.3", "999.1.1.1 and 1.2.3.4.5 and 1.2.3"},
        Case{"ipv6", "peer 2001:db8::1 up", "peer [REDACTED:ipv6] up"},
        Case{"ipv6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[REDACTED:ipv6]"},
        Case{"ipv6", "fe80::1ff:fe23:4567:890a", "[REDACTED:ipv6]"},
        Case{"ipv6", "at 10:30:00 std::string a::b::c", "at 10:30:00 std::string a::b::c"},
        // credentials
        Case{"openai_key", "key=sk-proj-abc123DEF456ghi789JKL012mno", "key=[REDACTED:openai_key]"},
        Case{"openai_key", "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "[REDACTED:openai_key]"},
        Case{"openai_key", "sk-learn-compatible-estimator-api", "sk-learn-compatible-estimator-api"},
        Case{"openai_key", "task-abc123def456ghi789jkl012", "task-abc123def456ghi789jkl012"},
        Case{"aws_access_key", "id AKIAIOSFODNN7EXAMPLE,", "id [REDACTED:aws_access_key],"},
        Case{"aws_access_key", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL"},
        Case{"aws_access_key", "XAKIAIOSFODNN7EXAMPLE", "XAKIAIOSFODNN7EXAMPLE"},
        Case{"github_token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED:github_token]"},
        Case{"github_token", "github_pat_11ABCDEFG0123456789_abcdefghij", "[REDACTED:github_token]"},
        Case{"github_token", "ghp_short and ghx_abcdefghijklmnopqrstuvwxyz0123456789",
             "ghp_short and ghx_abcdefghijklmnopqrstuvwxyz0123456789"},
        Case{"slack_token", "xoxb-1234567890-abcdefghij", "[REDACTED:slack_token]"},
        Case{"slack_token", "xoxz-1234567890-abcdefghij xoxb-123", "xoxz-1234567890-abcdefghij xoxb-123"},
        Case{"jwt",
             "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;",
             "t=[REDACTED:jwt];"},
        Case{"jwt", "eyJhbGciOiJIUzI1NiJ9 alone", "eyJhbGciOiJIUzI1NiJ9 alone"},
        Case{"private_key", "before\n" + kPem + "\nafter", "before\n[REDACTED:private_key]\nafter"},
        Case{"private_key", kPemJsonEscaped, "{\"key\":\"[REDACTED:private_key]\\n\",\"ok\":1}"},
        Case{"private_key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----",
             "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----"},
        Case{"password", "db password=hunter2 next", "db password=[REDACTED:password] next"},
        Case{"password", "DB_PASSWORD: 's3cr3t pass'", "DB_PASSWORD: '[REDACTED:password]'"},
        Case{"password", "{\"password\":\"hunter 2\",\"user\":\"x\"}",
             "{\"password\":\"[REDACTED:password]\",\"user\":\"x\"}"},
        Case{"password", "{\\\"password\\\": \\\"hunter2\\\"}", "{\\\"password\\\": \\\"[REDACTED:password]\\\"}"},
        Case{"password", "password reset link sent", "password reset link sent"},
        Case{"authorization", "Authorization: Bearer abc.def.ghi123", "Authorization: Bearer [REDACTED:authorization]"},
        Case{"authorization", "-H 'authorization: Basic dXNlcjpwYXNz'",
             "-H 'authorization: Basic [REDACTED:authorization]'"},
        Case{"authorization", "sent bearer 0123456789abcdefXYZ", "sent bearer [REDACTED:authorization]"},
        Case{"authorization", "authorization failed for user", "authorization failed for user"}));

TEST(Detectors, LuhnAndIban) {
  EXPECT_TRUE(LuhnValid("4012888888881881"));
  EXPECT_TRUE(LuhnValid("6011-1111-1111-1117"));
  EXPECT_FALSE(LuhnValid("6011-1111-1111-1118"));
  EXPECT_FALSE(LuhnValid("411111111111"));  // too short
  EXPECT_TRUE(IbanValid("DE89 3704 0044 0532 0130 00"));
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130 00 1"));
  EXPECT_FALSE(IbanValid("de89370400440532013000"));
}

TEST(Detectors, GlobMatch) {
  EXPECT_TRUE(GlobMatch("*.password", "db.password"));
  EXPECT_TRUE(GlobMatch("*.password", "tool.args.DB.Password"));
  EXPECT_FALSE(GlobMatch("*.password", "password"));
  EXPECT_TRUE(GlobMatch("tool.args.*", "tool.args.x.y"));
  EXPECT_TRUE(GlobMatch("user.?d", "user.id"));
  EXPECT_FALSE(GlobMatch("user.?d", "user.iid"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

// Replacing inside JSON text keeps it JSON, whatever escapes sit at the edges.
TEST(Redaction, KeepsJsonTextValid) {
  auto policy = MustCompile(Only("email"));
  ASSERT_TRUE(policy);
  std::string in = R"({"role":"user","content":"line one\njohn@example.com\u0020said \"hi\" to mary@example.org\\"})";
  std::string out = Redact(policy->For("x"), in);
  EXPECT_EQ(out.find("example.com"), std::string::npos);
  EXPECT_EQ(out.find("example.org"), std::string::npos);
  rapidjson::Document d;
  d.Parse(out.data(), out.size());
  EXPECT_FALSE(d.HasParseError()) << out;
}

TEST(Redaction, HashIsStableKeyedAndPerProject) {
  auto policy = MustCompile(Only("email", "hash"));
  ASSERT_TRUE(policy);
  const ProjectPolicy& p = policy->For("shop");
  Counts c;
  std::string a = "from Jane.Roe@Example.com", b = "to jane.roe@example.com";
  ASSERT_EQ(p.RedactText(&a, p.HmacKeyFor("shop"), &c), ProjectPolicy::Outcome::kChanged);
  ASSERT_EQ(p.RedactText(&b, p.HmacKeyFor("shop"), &c), ProjectPolicy::Outcome::kChanged);
  const std::string ha = a.substr(5), hb = b.substr(3);
  EXPECT_EQ(ha, hb) << "the same person, however typed, hashes the same";
  ASSERT_EQ(ha.size(), std::string("[email:hmac:]").size() + 12) << ha;
  EXPECT_EQ(ha.rfind("[email:hmac:", 0), 0u);
  // The same key compiles to the same hashes (stable across restarts and reloads).
  auto again = MustCompile(Only("email", "hash"));
  std::string a2 = "from jane.roe@example.com";
  again->For("shop").RedactText(&a2, again->For("shop").HmacKeyFor("shop"), &c);
  EXPECT_EQ(a2.substr(5), ha);
  // Another project, or another key: other hashes.
  std::string o = "jane.roe@example.com";
  p.RedactText(&o, p.HmacKeyFor("bank"), &c);
  EXPECT_NE(o, ha);
  auto other_key = MustCompile(Only("email", "hash"), std::string(32, 'z'));
  std::string k = "jane.roe@example.com";
  other_key->For("shop").RedactText(&k, other_key->For("shop").HmacKeyFor("shop"), &c);
  EXPECT_NE(k, ha);
  // A known vector: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
  EXPECT_EQ(HmacHex("key", "The quick brown fox jumps over the lazy dog", 64),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(Redaction, DropAskedForAndCounted) {
  auto policy = MustCompile(Only("us_ssn", "drop"));
  ASSERT_TRUE(policy);
  ProjectPolicy::Outcome o;
  Counts c;
  Redact(policy->For("x"), "ssn 123-45-6789", &o, &c);
  EXPECT_EQ(o, ProjectPolicy::Outcome::kDrop);
  int64_t drops = 0;
  c.ForEach([&](size_t rule, Action a, int64_t n) {
    EXPECT_EQ(policy->For("x").rules()[rule].name, "us_ssn");
    EXPECT_EQ(a, Action::kDrop);
    drops += n;
  });
  EXPECT_EQ(drops, 1);
}

// Overlapping matches merge into one region named by the earliest (then longest,
// then first in policy order): no byte of either survives.
TEST(Redaction, OverlapsResolveDeterministically) {
  auto policy = MustCompile(
      "[detectors]\nemail = \"mask\"\nipv4 = \"mask\"\n"
      "[[custom]]\nname = \"host\"\npattern = 'host-[0-9]+\\.example\\.com'\n");
  ASSERT_TRUE(policy);
  // The custom rule's match starts inside the e-mail's: one region, the e-mail's.
  EXPECT_EQ(Redact(policy->For("x"), "ops@host-12.example.com!"), "[REDACTED:email]!");
  // Same start, same end: the first rule in policy order (password before email).
  EXPECT_EQ(Redact(policy->For("x"), "password=ann@example.com"), "password=[REDACTED:password]");
}

ResourceSpans SampleRequest() {
  ResourceSpans rs;
  auto add = [](auto* kvs, const std::string& k, const std::string& v) {
    KeyValue* kv = kvs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
    return kv;
  };
  add(rs.mutable_resource()->mutable_attributes(), "service.name", "billing");
  add(rs.mutable_resource()->mutable_attributes(), "host.owner", "ops@example.com");
  auto* span = rs.add_scope_spans()->add_spans();
  span->set_name("email ann@example.com");
  span->mutable_status()->set_message("failed for bob@example.com");
  add(span->mutable_attributes(), "db.password", "hunter2");
  add(span->mutable_attributes(), "tool.args.invoice_id", "inv-for-carl@example.com");
  add(span->mutable_attributes(), "user.id", "dana@example.com");
  add(span->mutable_attributes(), "gen_ai.input.messages",
      R"([{"role":"user","parts":[{"type":"text","content":"I am eve@example.com"}]}])");
  KeyValue* nested = span->add_attributes();
  nested->set_key("tool.args");
  auto* kvl = nested->mutable_value()->mutable_kvlist_value();
  add(kvl->mutable_values(), "api_key", "abc");
  add(kvl->mutable_values(), "to", "fay@example.com");
  KeyValue* arr = span->add_attributes();
  arr->set_key("recipients");
  arr->mutable_value()->mutable_array_value()->add_values()->set_string_value("gus@example.com");
  auto* ev = span->add_events();
  ev->set_name("sent");
  add(ev->mutable_attributes(), "to", "hal@example.com");
  auto* link = span->add_links();
  add(link->mutable_attributes(), "from", "ivy@example.com");
  return rs;
}

TEST(Redaction, WholeRequestKeyRulesAndEveryStringField) {
  auto policy = MustCompile(
      "[detectors]\nemail = \"mask\"\n"
      "[attributes]\ndrop = [\"*.password\"]\nkeep = [\"tool.args.invoice_id\"]\nhash = [\"user.id\"]\n");
  ASSERT_TRUE(policy);
  ResourceSpans rs = SampleRequest();
  Counts counts;
  RedactResourceSpans(policy->For("p"), "p", &rs, &counts);
  const std::string all = rs.DebugString();
  for (const char* who : {"ops@", "ann@", "bob@", "dana@", "eve@", "fay@", "gus@", "hal@", "ivy@"})
    EXPECT_EQ(all.find(who), std::string::npos) << who << " survived:\n" << all;
  EXPECT_EQ(all.find("hunter2"), std::string::npos);
  EXPECT_EQ(all.find("db.password"), std::string::npos) << "dropped keys go entirely";
  EXPECT_NE(all.find("inv-for-carl@example.com"), std::string::npos) << "kept keys are not scanned";
  EXPECT_NE(all.find("[attribute:hmac:"), std::string::npos);
  EXPECT_NE(all.find("billing"), std::string::npos);
  const auto& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "email [REDACTED:email]");
  // The nested tool.args.api_key hit the built-in key rule (mask).
  EXPECT_NE(all.find("[REDACTED:attribute]"), std::string::npos);
  EXPECT_FALSE(counts.empty());
}

// The answer the ingest path relies on to copy a request's bytes into the WAL: false
// only when every byte of the request is as it came, including KeyValues sent without
// a value (none is added).
TEST(Redaction, SaysWhetherItChangedAnything) {
  auto policy = MustCompile("[detectors]\nemail = \"mask\"\n[attributes]\ndrop = [\"*.password\"]\n");
  ASSERT_TRUE(policy);
  ResourceSpans clean;
  auto* span = clean.add_scope_spans()->add_spans();
  span->set_name("chat");
  span->add_attributes()->set_key("no.value");
  auto* kvl = span->add_attributes();
  kvl->set_key("nested");
  kvl->mutable_value()->mutable_kvlist_value()->add_values()->set_key("inner.no.value");
  auto* note = span->add_attributes();
  note->set_key("note");
  note->mutable_value()->set_string_value("nothing to see");
  const std::string before = clean.SerializeAsString();
  Counts counts;
  EXPECT_FALSE(RedactResourceSpans(policy->For("p"), "p", &clean, &counts));
  EXPECT_EQ(clean.SerializeAsString(), before);
  EXPECT_FALSE(clean.scope_spans(0).spans(0).attributes(0).has_value());
  EXPECT_TRUE(counts.empty());

  // Each kind of change says so: a masked match, a field's drop, a key rule.
  for (const char* change : {"email", "name", "key"}) {
    ResourceSpans rs = clean;
    auto* s = rs.mutable_scope_spans(0)->mutable_spans(0);
    if (std::string(change) == "email") s->mutable_attributes(2)->mutable_value()->set_string_value("to ann@example.com");
    if (std::string(change) == "name") s->set_name("mail ann@example.com");
    if (std::string(change) == "key") s->add_attributes()->set_key("db.password");
    Counts c;
    EXPECT_TRUE(RedactResourceSpans(policy->For("p"), "p", &rs, &c)) << change;
  }
}

TEST(Redaction, PerProjectOverridesAndCustomRules) {
  auto policy = MustCompile(R"(
[detectors]
email = "off"
[[custom]]
name = "ticket"
pattern = 'TCK-[0-9]{6}'
[projects.acme.detectors]
email = "hash"
[[projects.acme.custom]]
name = "ticket"
pattern = 'TCK-[0-9]{6}'
action = "drop"
[projects.acme.attributes]
keep = ["*password"]
)");
  ASSERT_TRUE(policy);
  EXPECT_EQ(Redact(policy->For("other"), "a@b.io TCK-123456"), "a@b.io [REDACTED:ticket]");
  ProjectPolicy::Outcome o;
  Redact(policy->For("acme"), "TCK-123456", &o);
  EXPECT_EQ(o, ProjectPolicy::Outcome::kDrop);
  EXPECT_EQ(Redact(policy->For("acme"), "a@b.io").rfind("[email:hmac:", 0), 0u);
  EXPECT_EQ(policy->For("acme").ForKey("db.password"), KeyVerdict::kKeep) << "a project's keep beats the built-in mask";
  EXPECT_EQ(policy->For("other").ForKey("db.password"), KeyVerdict::kMask);
  // Credentials stay on under a file that does not mention them.
  EXPECT_EQ(Redact(policy->For("other"), "AKIAIOSFODNN7EXAMPLE"), "[REDACTED:aws_access_key]");
}

TEST(Redaction, BuiltinDefaultMasksCredentialsOnly) {
  auto policy = Policy::Builtin(kKey);
  ASSERT_TRUE(policy.ok());
  const ProjectPolicy& p = (*policy)->For("default");
  EXPECT_EQ(Redact(p, "key sk-proj-abc123DEF456ghi789JKL012mno"), "key [REDACTED:openai_key]");
  EXPECT_EQ(Redact(p, "mail ann@example.com card 4111 1111 1111 1111"),
            "mail ann@example.com card 4111 1111 1111 1111");
  EXPECT_EQ(p.ForKey("http.request.header.authorization"), KeyVerdict::kMask);
  EXPECT_EQ(p.ForKey("openinference.project.name"), KeyVerdict::kKeep);
  EXPECT_EQ(p.ForKey("gen_ai.input.messages"), KeyVerdict::kScan);
}

// --- The policy file's errors ------------------------------------------------------

struct BadFile {
  std::string text;
  std::string want;          // in the message
  std::string secret;        // never in the message
};

class PolicyErrors : public ::testing::TestWithParam<BadFile> {};

TEST_P(PolicyErrors, NameTheLineAndNeverQuoteTheFile) {
  const BadFile& b = GetParam();
  std::string message;
  auto spec = ParsePolicy(b.text, "redaction.toml");
  if (!spec.ok()) {
    message = spec.status().message();
  } else {
    auto p = Policy::Compile(*spec, kKey, "redaction.toml");
    ASSERT_FALSE(p.ok()) << b.text;
    message = p.status().message();
  }
  EXPECT_NE(message.find(b.want), std::string::npos) << message;
  EXPECT_EQ(message.find(b.secret), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PolicyErrors,
    ::testing::Values(
        BadFile{"[detectors]\nemail = \"mask\"\n\n[hash]\nkey = \"hunter2hunter2hunter2\n", "redaction.toml:5:",
                "hunter2"},
        BadFile{"[detectors]\nemial = \"mask\"\n", "redaction.toml:2: detectors: unknown detector `emial`", "@"},
        BadFile{"[detectors]\nemail = \"maks-s3cret\"\n", "redaction.toml:2: detectors.email: must be one of",
                "s3cret"},
        BadFile{"\n[[custom]]\nname = \"tok\"\npattern = 'SECRETVALUE-(unclosed'\n",
                "redaction.toml:2: custom rule `tok`: the pattern does not compile", "SECRETVALUE"},
        BadFile{"[[custom]]\nname = \"Bad Name\"\npattern = 'x'\n", "redaction.toml:2: custom.name", "x'"},
        BadFile{"[[custom]]\nname = \"email\"\npattern = 'x'\n", "is a built-in detector", "pattern"},
        BadFile{"[hash]\nkey = \"short-s3cret\"\n", "redaction.toml:2: hash.key: a string of at least 16", "s3cret"},
        BadFile{"[attributes]\nhide = [\"x\"]\n", "redaction.toml:2: attributes: unknown list `hide`", "\"x\""},
        BadFile{"[projects.acme]\ndetector = {}\n", "redaction.toml:2: unknown setting `projects.acme.detector`",
                "{}"},
        BadFile{"version = 2\n", "redaction.toml:1: version", "2\n"},
        BadFile{"[[custom]]\nname = \"empty\"\npattern = '.*'\n", "custom rule `empty`", ".*"},
        // Invalid TOML that toml++ does not refuse cleanly (found by the fuzzer).
        BadFile{"[detectors]\n\n[ *custom[]]\n", "redaction.toml:3: not valid TOML: a table header", "*custom"},
        BadFile{std::string("[hash]\nkey = \"s3cret\x01\"\n"), "redaction.toml:2: not valid TOML: control character 1",
                "s3cret"},
        BadFile{"[detectors]\nphone = \xc9\xb4 \"mask\"\n", "redaction.toml:2: not valid TOML: a non-ASCII character",
                "mask"},
        BadFile{"[[custom]]\nname = \"x\"\npattern = \"\"\"a\\\n  \xc9\xb4\"\"\"\n", "redaction.toml:4: not valid TOML",
                "pattern"}));

TEST(PolicyFile, TableHeaderCheckLeavesValidTomlAlone) {
  // Brackets in strings, comments, multi-line strings and arrays are not headers.
  auto spec = ParsePolicy(
      "# [*comment]\n[attributes]\nkeep = [\n  \"[*a\",\n  '[*b',\n]\n[[custom]]\nname = \"x\"\n"
      "pattern = '''\n[*x]'''\n",
      "redaction.toml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
}

TEST(PolicyFile, EmptyFileIsTheBuiltinPolicy) {
  auto policy = MustCompile("");
  ASSERT_TRUE(policy);
  EXPECT_EQ(Redact(policy->For("x"), "AKIAIOSFODNN7EXAMPLE"), "[REDACTED:aws_access_key]");
}

}  // namespace
}  // namespace sightline::pipeline::redaction
