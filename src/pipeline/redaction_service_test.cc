// RedactionService: the policy file is optional, reloaded without restart, a bad edit
// keeps the policy in force (and the log line names the line, never the content),
// the hash key is made once and kept, and counts reach /metrics with bounded labels.
#include "pipeline/redaction_service.h"

#include <gtest/gtest.h>

#include "common/mem_env.h"

namespace sightline::pipeline {
namespace {

using ::opentelemetry::proto::trace::v1::ResourceSpans;

Status WriteFile(MemEnv* env, const std::string& path, const std::string& text) {
  auto f = env->NewWritableFile(path);
  if (!f.ok()) return f.status();
  SL_RETURN_IF_ERROR((*f)->Append(text));
  SL_RETURN_IF_ERROR((*f)->Sync());
  return (*f)->Close();
}

ResourceSpans OneSpan(const std::string& value) {
  ResourceSpans rs;
  auto* kv = rs.add_scope_spans()->add_spans()->add_attributes();
  kv->set_key("note");
  kv->mutable_value()->set_string_value(value);
  return rs;
}

std::string RedactedNote(RedactionService* s, const std::string& project, const std::string& value) {
  ResourceSpans rs = OneSpan(value);
  s->Redact(project, &rs);
  const auto& attrs = rs.scope_spans(0).spans(0).attributes();
  return attrs.empty() ? std::string("<dropped>") : attrs[0].value().string_value();
}

TEST(RedactionService, NoFileMeansBuiltinThenReloadsEditsAndKeepsPolicyOnBadEdit) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  std::vector<std::string> log;
  MetricsRegistry metrics;
  auto svc = RedactionService::Create({.env = &env,
                                       .policy_file = "/data/redaction.toml",
                                       .key_file = "/data/redaction.key",
                                       .reload_interval_ms = 0,
                                       .metrics = &metrics,
                                       .logger = [&log](const std::string& l) { log.push_back(l); }});
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  RedactionService* s = svc->get();
  EXPECT_EQ(s->Describe(), "built-in");
  EXPECT_EQ(RedactedNote(s, "p", "mail ann@example.com"), "mail ann@example.com");
  EXPECT_EQ(RedactedNote(s, "p", "AKIAIOSFODNN7EXAMPLE"), "[REDACTED:aws_access_key]");

  ASSERT_TRUE(WriteFile(&env, "/data/redaction.toml", "[detectors]\nemail = \"mask\"\n").ok());
  s->MaybeReload();
  EXPECT_EQ(s->Describe(), "/data/redaction.toml");
  EXPECT_EQ(RedactedNote(s, "p", "mail ann@example.com"), "mail [REDACTED:email]");

  // A bad edit: refused, named by line, the previous policy stays, logged once.
  const std::string bad = "[detectors]\nemail = \"mask\"\n[[custom]]\nname = \"t\"\npattern = 'hunter2-(x'\n";
  ASSERT_TRUE(WriteFile(&env, "/data/redaction.toml", bad).ok());
  s->MaybeReload();
  s->MaybeReload();
  EXPECT_NE(s->last_error().message().find("redaction.toml:3: custom rule `t`"), std::string::npos)
      << s->last_error().message();
  EXPECT_EQ(RedactedNote(s, "p", "mail ann@example.com"), "mail [REDACTED:email]");
  ASSERT_EQ(log.size(), 2u);  // the reload, then one refusal
  EXPECT_EQ(log[1].find("hunter2"), std::string::npos) << log[1];
  EXPECT_EQ(metrics.GetCounter("sightline_redaction_reload_errors_total", "")->Value(), 1);
  EXPECT_EQ(metrics.GetGauge("sightline_redaction_policy_ok", "")->Value(), 0);

  // Fixed: in force again.
  ASSERT_TRUE(WriteFile(&env, "/data/redaction.toml", "[detectors]\nemail = \"drop\"\n").ok());
  s->MaybeReload();
  EXPECT_TRUE(s->last_error().ok());
  EXPECT_EQ(RedactedNote(s, "p", "mail ann@example.com"), "<dropped>");
  EXPECT_EQ(metrics.GetGauge("sightline_redaction_policy_ok", "")->Value(), 1);

  // Counted per project, rule and action (two masks: before and after the refused edit).
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("sightline_redactions_total{project=\"p\",rule=\"email\",action=\"mask\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sightline_redactions_total{project=\"p\",rule=\"email\",action=\"drop\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("rule=\"aws_access_key\",action=\"mask\"} 1"), std::string::npos);
}

TEST(RedactionService, BadFileAtStartIsRefusedAndNamesTheLine) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  ASSERT_TRUE(WriteFile(&env, "/data/redaction.toml", "\n\n[detectors]\nemail = 'hush-s3cret'\n").ok());
  auto svc = RedactionService::Create({.env = &env, .policy_file = "/data/redaction.toml", .key_file = ""});
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(svc.status().message().find("/data/redaction.toml:4: detectors.email"), std::string::npos)
      << svc.status().message();
  EXPECT_EQ(svc.status().message().find("s3cret"), std::string::npos);
}

TEST(RedactionService, HashKeyIsMadeOnceAndKeptAcrossRestarts) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  ASSERT_TRUE(WriteFile(&env, "/data/redaction.toml", "[detectors]\nemail = \"hash\"\n").ok());
  RedactionService::Options o{.env = &env, .policy_file = "/data/redaction.toml", .key_file = "/data/redaction.key"};
  auto first = RedactionService::Create(o);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(env.FileExists("/data/redaction.key"));
  const std::string h1 = RedactedNote(first->get(), "p", "ann@example.com");
  first->reset();
  auto second = RedactionService::Create(o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(RedactedNote(second->get(), "p", "ann@example.com"), h1);
  EXPECT_NE(RedactedNote(second->get(), "q", "ann@example.com"), h1) << "projects never share hashes";
  // Another data directory (another key): another hash.
  MemEnv env2;
  ASSERT_TRUE(env2.CreateDir("/data").ok());
  ASSERT_TRUE(WriteFile(&env2, "/data/redaction.toml", "[detectors]\nemail = \"hash\"\n").ok());
  o.env = &env2;
  auto third = RedactionService::Create(o);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(RedactedNote(third->get(), "p", "ann@example.com"), h1);
}

TEST(RedactionService, MetricProjectsAreBounded) {
  MemEnv env;
  MetricsRegistry metrics;
  auto svc = RedactionService::Create(
      {.env = &env, .policy_file = "", .key_file = "", .reload_interval_ms = 2000, .max_metric_projects = 2, .metrics = &metrics});
  ASSERT_TRUE(svc.ok());
  for (const char* p : {"a", "b", "c", "d"}) RedactedNote(svc->get(), p, "AKIAIOSFODNN7EXAMPLE");
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("project=\"b\""), std::string::npos);
  EXPECT_EQ(text.find("project=\"c\""), std::string::npos);
  EXPECT_NE(text.find("sightline_redactions_total{project=\"other\",rule=\"aws_access_key\",action=\"mask\"} 2"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace sightline::pipeline
