#include "store/retention/retention_policy.h"

#include <gtest/gtest.h>

namespace sightline::store::retention {
namespace {

TEST(RetentionPolicy, FatesByAgeAndStatusClass) {
  RetentionPolicy p{.full_days = 7, .failed_days = kForever, .summary_days = 30};
  const int64_t end = 100 * kDayNs;  // partition end
  struct Row {
    int64_t age_days;
    bool failed;
    Fate want;
  } rows[] = {
      {0, false, Fate::kFull},   {6, false, Fate::kFull},    {7, false, Fate::kSummary},
      {29, false, Fate::kSummary}, {30, false, Fate::kGone}, {400, false, Fate::kGone},
      {7, true, Fate::kFull},    {4000, true, Fate::kFull},
  };
  for (const auto& r : rows)
    EXPECT_EQ(Decide(p, r.failed, end, end + r.age_days * kDayNs), r.want) << r.age_days << " " << r.failed;
  RetentionPolicy q{.full_days = 7, .failed_days = 60, .summary_days = 30};
  EXPECT_EQ(Decide(q, true, end, end + 59 * kDayNs), Fate::kFull);
  EXPECT_EQ(Decide(q, true, end, end + 60 * kDayNs), Fate::kGone);  // past both
  auto t = Transitions(p, false, end);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].at_ns, end + 7 * kDayNs);
  EXPECT_EQ(t[0].fate, Fate::kSummary);
  EXPECT_EQ(t[1].at_ns, end + 30 * kDayNs);
  EXPECT_TRUE(Transitions(p, true, end).empty());
  EXPECT_TRUE(Transitions(RetentionPolicy{}, false, end).empty());
}

TEST(RetentionPolicy, ValidationNamesTheSetting) {
  RetentionOptions o;
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_FALSE(o.Enabled());
  o.projects["acme"] = RetentionPolicy{.full_days = 10, .failed_days = kForever, .summary_days = 5};
  Status s = o.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("retention.projects.acme.summary_days"), std::string::npos) << s.ToString();
  o.projects["acme"].summary_days = 20;
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_TRUE(o.Enabled());
  EXPECT_EQ(o.FirstThresholdNs(), 10 * kDayNs);
  EXPECT_EQ(o.For("acme").full_days, 10);
  EXPECT_EQ(o.For("other").full_days, kForever);
  o.default_policy.full_days = -5;
  EXPECT_NE(o.Validate().message().find("retention.full_days"), std::string::npos);
}

TEST(RetentionPolicy, PartitionsFloorNegativeTimes) {
  EXPECT_EQ(PartitionOf(0, kDayNs), 0);
  EXPECT_EQ(PartitionOf(kDayNs - 1, kDayNs), 0);
  EXPECT_EQ(PartitionOf(kDayNs, kDayNs), 1);
  EXPECT_EQ(PartitionOf(-1, kDayNs), -1);
}

}  // namespace
}  // namespace sightline::store::retention
