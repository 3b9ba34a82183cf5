// Redaction as the ingest service runs it: before normalisation, so canonical fields
// derived from attributes (user_id, input/output messages) come from redacted values,
// with the project resolved as normalisation resolves it (header, else resource).
#include "ingest/redact_request.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "common/mem_env.h"
#include "ingest/ingest_service.h"
#include "store/write_only_store.h"

namespace sightline::ingest {
namespace {

class KeepingStore : public store::WriteOnlyStore {
 public:
  Status Append(std::vector<model::Span> spans, AppendCallback done) override {
    appended.insert(appended.end(), spans.begin(), spans.end());
    done(Status::OK());
    return Status::OK();
  }
  std::vector<model::Span> appended;
};

std::unique_ptr<pipeline::RedactionService> Service(MemEnv* env, const std::string& policy) {
  EXPECT_TRUE(env->CreateDir("/d").ok());
  auto f = env->NewWritableFile("/d/redaction.toml");
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append(policy).ok());
  EXPECT_TRUE((*f)->Close().ok());
  auto s = pipeline::RedactionService::Create({.env = env, .policy_file = "/d/redaction.toml", .key_file = ""});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// One OTLP JSON span; the resource names a project when `resource_project` is set.
std::string Body(const std::string& resource_project) {
  std::string res = R"({"key":"service.name","value":{"stringValue":"svc"}})";
  if (!resource_project.empty())
    res += R"(,{"key":"openinference.project.name","value":{"stringValue":")" + resource_project + R"("}})";
  return R"({"resourceSpans":[{"resource":{"attributes":[)" + res + R"(]},"scopeSpans":[{"spans":[{)"
         R"("traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"chat",)"
         R"("startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[)"
         R"({"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},)"
         R"({"key":"user.id","value":{"stringValue":"ann@example.com"}},)"
         R"({"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"mail bob@example.com\\nkey AKIAIOSFODNN7EXAMPLE\"}]}]"}})"
         R"(]}]}]}]})";
}

model::Span Ingest(pipeline::RedactionService* redaction, const std::string& header, const std::string& body) {
  KeepingStore store;
  MetricsRegistry metrics;
  IngestOptions o;
  o.redaction = redaction;
  IngestService svc(&store, &metrics, o);
  IngestRequest r;
  r.body = body;
  r.format = BodyFormat::kJson;
  r.project = header;
  IngestResult got;
  svc.Submit(std::move(r), [&got](IngestResult res) { got = std::move(res); });
  EXPECT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(store.appended.size(), 1u);
  return store.appended.empty() ? model::Span() : store.appended[0];
}

TEST(RedactRequest, CanonicalFieldsComeFromRedactedValues) {
  MemEnv env;
  auto redaction = Service(&env, "[detectors]\nemail = \"hash\"\n");
  ASSERT_TRUE(redaction);
  model::Span s = Ingest(redaction.get(), "", Body(""));
  EXPECT_EQ(s.project(), "default");
  EXPECT_EQ(s.user_id().rfind("[email:hmac:", 0), 0u) << s.user_id();
  EXPECT_EQ(s.input_json().find("bob@"), std::string::npos) << s.input_json();
  EXPECT_EQ(s.input_json().find("AKIA"), std::string::npos) << s.input_json();
  EXPECT_NE(s.input_json().find("[REDACTED:aws_access_key]"), std::string::npos) << s.input_json();
  rapidjson::Document d;
  d.Parse(s.input_json().c_str());
  EXPECT_FALSE(d.HasParseError()) << s.input_json();
  EXPECT_EQ(s.SerializeAsString().find("example.com"), std::string::npos);
}

TEST(RedactRequest, ProjectFromHeaderElseResource) {
  MemEnv env;
  auto redaction = Service(&env, "[detectors]\nemail = \"off\"\n[projects.acme.detectors]\nemail = \"mask\"\n");
  ASSERT_TRUE(redaction);
  EXPECT_EQ(Ingest(redaction.get(), "", Body("")).user_id(), "ann@example.com");
  EXPECT_EQ(Ingest(redaction.get(), "acme", Body("")).user_id(), "[REDACTED:email]");
  model::Span from_resource = Ingest(redaction.get(), "", Body("acme"));
  EXPECT_EQ(from_resource.project(), "acme");
  EXPECT_EQ(from_resource.user_id(), "[REDACTED:email]");
  // The header wins over the resource, as in normalisation.
  EXPECT_EQ(Ingest(redaction.get(), "other", Body("acme")).user_id(), "ann@example.com");
}

}  // namespace
}  // namespace sightline::ingest
