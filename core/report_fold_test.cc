#include "core/report_fold.h"

#include <gtest/gtest.h>

#include "core/drift_json.h"

namespace driftwatch {
namespace {

DriftEvent Event(const std::string& path, DriftKind kind, Severity sev) {
  DriftEvent e;
  e.path = path;
  e.kind = kind;
  e.severity = sev;
  e.rule = "/** (test.yaml:1)";
  Entry n;
  n.mask = kAttrType | kAttrPerm | kAttrSize;
  n.type = EntryType::kFile;
  n.mode = 0644;
  n.size = 12;
  if (kind != DriftKind::kRemoved) e.new_entry = n;
  if (kind != DriftKind::kAdded) e.old_entry = n;
  return e;
}

CheckResult Check(int added, int critical_at = -1) {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  r.baseline_revision = 2;
  r.started_ns = 1793491200000000000;
  r.finished_ns = r.started_ns + 5;
  for (int i = 0; i < added; ++i) {
    if (i == critical_at) {
      r.events.push_back(Event("/etc/passwd", DriftKind::kModified, Severity::kCritical));
    }
    r.events.push_back(Event("/srv/data/d" + std::to_string(i % 7) + "/f" + std::to_string(i),
                             DriftKind::kAdded, Severity::kMedium));
  }
  return r;
}

size_t WireSize(const CheckResult& r) { return CheckResultToJson(r).serialize().size(); }

TEST(FitReportTest, AReportThatFitsIsUnchanged) {
  CheckResult r = Check(50, 10);
  auto out = FitReport(r, ReportBudget{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].events.size(), 51u);
  EXPECT_FALSE(out[0].fold.totals.has_value());
  EXPECT_EQ(out[0].fold.folded.total, 0);
  EXPECT_EQ(CheckResultToJson(out[0]).serialize(), CheckResultToJson(r).serialize());
}

TEST(FitReportTest, DiffsAreDroppedBeforeAnyEventIsFolded) {
  CheckResult r = Check(100);
  for (DriftEvent& e : r.events) e.diff = std::string(60 << 10, 'x') + "\n";
  r.events[0].diff.clear();
  r.events[0].content_note = "redacted";
  ReportBudget b;
  b.max_bytes = 1 << 20;  // 100 diffs of 60 KiB do not fit, the events do
  auto out = FitReport(r, b);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].events.size(), 100u);
  EXPECT_EQ(out[0].fold.folded.total, 0);
  EXPECT_FALSE(out[0].fold.totals.has_value());
  EXPECT_EQ(out[0].events[0].content_note, "redacted");
  for (size_t i = 1; i < out[0].events.size(); ++i) {
    EXPECT_EQ(out[0].events[i].diff, "");
    EXPECT_EQ(out[0].events[i].content_note, "omitted");
  }
  EXPECT_LE(WireSize(out[0]), b.max_bytes);
  // A report that fits keeps its diffs.
  r.events.resize(10);
  out = FitReport(r, b);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].events[1].diff.size(), (60u << 10) + 1);
}

TEST(FitReportTest, FoldsMediumEventsKeepsCriticalAndExactCounts) {
  CheckResult r = Check(60000, 30000);
  ReportBudget b;
  b.max_bytes = 1 << 20;
  b.max_events = 2000;
  auto out = FitReport(r, b);
  ASSERT_EQ(out.size(), 1u);
  const CheckResult& h = out[0];
  EXPECT_LE(h.events.size(), 2000u);
  EXPECT_LE(WireSize(h) + 1024, b.max_bytes);
  // The critical event is listed; everything not listed is folded.
  int critical = 0;
  for (const DriftEvent& e : h.events) critical += e.severity == Severity::kCritical;
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(h.fold.folded.total + static_cast<int64_t>(h.events.size()), 60001);
  EXPECT_EQ(h.fold.folded.kinds[static_cast<int>(DriftKind::kAdded)], h.fold.folded.total);
  ASSERT_TRUE(h.fold.totals.has_value());
  EXPECT_EQ(h.fold.totals->total, 60001);
  EXPECT_EQ(h.fold.totals->kinds[static_cast<int>(DriftKind::kAdded)], 60000);
  EXPECT_EQ(h.fold.totals->kinds[static_cast<int>(DriftKind::kModified)], 1);
  EXPECT_EQ(h.fold.totals->severities[static_cast<int>(Severity::kCritical)], 1);
  EXPECT_EQ(h.fold.totals->severities[static_cast<int>(Severity::kMedium)], 60000);
  // The folded paths are summarised by their directories.
  ASSERT_EQ(h.fold.prefixes.size(), 7u);
  int64_t covered = 0;
  for (const PathPrefixCount& p : h.fold.prefixes) {
    EXPECT_EQ(p.prefix.rfind("/srv/data/d", 0), 0u) << p.prefix;
    covered += p.events;
  }
  EXPECT_EQ(covered, h.fold.folded.total);
  // The wire form round-trips, counts included.
  auto back = CheckResultFromJson(CheckResultToJson(h));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->fold.folded, h.fold.folded);
  EXPECT_EQ(back->fold.prefixes, h.fold.prefixes);
  ASSERT_TRUE(back->fold.totals.has_value());
  EXPECT_EQ(*back->fold.totals, *h.fold.totals);
  EXPECT_EQ(ReportCounts(*back), *h.fold.totals);
}

TEST(FitReportTest, CriticalAndHighEventsOverTheBudgetAreSplitIntoParts) {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  for (int i = 0; i < 5000; ++i) {
    r.events.push_back(Event("/etc/spam/f" + std::to_string(i), DriftKind::kAdded,
                             i % 2 ? Severity::kHigh : Severity::kCritical));
  }
  for (int i = 0; i < 300; ++i) {
    r.events.push_back(
        Event("/var/lib/x/f" + std::to_string(i), DriftKind::kAdded, Severity::kLow));
  }
  ReportBudget b{200 << 10, 1000};
  auto out = FitReport(r, b);
  ASSERT_GE(out.size(), 5u);
  size_t high = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_LE(out[i].events.size(), 1000u) << i;
    EXPECT_LE(WireSize(out[i]) + 1024, b.max_bytes) << i;
    for (const DriftEvent& e : out[i].events) {
      EXPECT_GE(e.severity, Severity::kHigh);
      ++high;
    }
    if (i > 0) {
      EXPECT_EQ(out[i].fold.part, static_cast<int64_t>(i));
      EXPECT_FALSE(out[i].fold.totals.has_value());
      EXPECT_EQ(out[i].target, "web-1");
    }
  }
  EXPECT_EQ(high, 5000u);
  EXPECT_EQ(out[0].fold.parts, static_cast<int64_t>(out.size()));
  EXPECT_EQ(out[0].fold.folded.total, 300);
  ASSERT_EQ(out[0].fold.prefixes.size(), 1u);
  EXPECT_EQ(out[0].fold.prefixes[0], (PathPrefixCount{"/var/lib/x/", 300}));
  EXPECT_EQ(out[0].fold.totals->total, 5300);
}

// Realtime events carry their actors (a command line of up to 1 KiB each):
// the budget counts them, and the parts of a realtime report are realtime.
TEST(FitReportTest, RealtimeEventsWithActorsFitAndTheirPartsStayRealtime) {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  r.source = "realtime";
  Actor a;
  a.pid = 4242;
  a.exe = "/usr/bin/vim";
  a.cmdline = std::string(kMaxActorCmdline, 'x');
  a.uid = 1000;
  for (int i = 0; i < 600; ++i) {
    DriftEvent e = Event("/etc/rt/f" + std::to_string(i), DriftKind::kModified,
                         i % 3 ? Severity::kLow : Severity::kHigh);
    e.time_ns = 1793491200000000000 + i;
    e.actor = a;
    e.transient = i % 2 == 0;
    e.reverted_by = a;
    r.events.push_back(std::move(e));
  }
  const ReportBudget b{kMinReportBudget.max_bytes * 2, 1000};
  auto out = FitReport(r, b);
  ASSERT_GE(out.size(), 2u);
  size_t listed_high = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_LE(WireSize(out[i]) + 1024, b.max_bytes) << i;
    EXPECT_EQ(out[i].source, "realtime") << i;
    for (const DriftEvent& e : out[i].events) {
      ASSERT_TRUE(e.actor.has_value());
      EXPECT_EQ(*e.actor, a);
      listed_high += e.severity == Severity::kHigh;
    }
  }
  EXPECT_EQ(listed_high, 200u);
  EXPECT_EQ(out[0].fold.totals->total, 600);
}

TEST(FitReportTest, ShrinkingAFoldedHeadAgainKeepsItsCounts) {
  CheckResult r = Check(20000, 5);
  auto first = FitReport(r, ReportBudget{2 << 20, 5000});
  ASSERT_EQ(first.size(), 1u);
  auto wire = CheckResultFromJson(CheckResultToJson(first[0]));
  ASSERT_TRUE(wire.ok()) << wire.status().message();
  auto second = FitReport(*wire, ReportBudget{256 << 10, 500});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_LE(second[0].events.size(), 500u);
  EXPECT_EQ(*second[0].fold.totals, *first[0].fold.totals);
  EXPECT_EQ(second[0].fold.folded.total + static_cast<int64_t>(second[0].events.size()), 20001);
  int64_t covered = 0;
  for (const PathPrefixCount& p : second[0].fold.prefixes) covered += p.events;
  EXPECT_EQ(covered, second[0].fold.folded.total);
}

TEST(FitReportTest, AFloodOfWarningsIsCappedSoTheReportFits) {
  CheckResult r = Check(10, 3);
  for (int i = 0; i < 200000; ++i) {
    r.warnings.push_back("/srv/unreadable/f" + std::to_string(i) + ": permission denied");
  }
  r.warnings[0] = std::string(5000, 'x') + "\xc3\xa9";
  for (int i = 0; i < 1000; ++i) r.subtrees.emplace_back("/d" + std::to_string(i), Hash128());
  ReportBudget b{256 << 10, 1000};
  auto out = FitReport(r, b);
  ASSERT_EQ(out.size(), 1u);
  const CheckResult& h = out[0];
  EXPECT_EQ(h.events.size(), 11u);  // every event still listed
  ASSERT_EQ(h.warnings.size(), kMaxReportWarnings);
  EXPECT_EQ(h.warnings[0], std::string(kMaxWarningBytes, 'x') + "...");
  EXPECT_EQ(h.warnings[1], "/srv/unreadable/f1: permission denied");
  EXPECT_EQ(h.warnings.back(), "199901 more warnings not listed (200000 in all)");
  EXPECT_EQ(h.subtrees.size(), kMaxReportSubtrees);
  EXPECT_LE(WireSize(h) + 1024, b.max_bytes);
}

TEST(CommonPrefixesTest, Table) {
  struct Case {
    std::vector<std::pair<std::string, int64_t>> in;
    size_t max;
    std::vector<PathPrefixCount> want;
  };
  const std::vector<Case> cases = {
      {{}, 4, {}},
      {{{"/a/b/c", 1}, {"/a/b/d", 1}}, 4, {{"/a/b/", 2}}},
      {{{"/a/b/c", 1}, {"/a/x/d", 1}}, 4, {{"/a/b/", 1}, {"/a/x/", 1}}},
      {{{"/a/b/c", 1}, {"/a/x/d", 1}}, 1, {{"/a/", 2}}},
      {{{"/a/b/c", 1}, {"/z/x/d", 1}}, 1, {{"/", 2}}},
      {{{"/a/b/", 5}, {"/a/b/c/d", 1}}, 1, {{"/a/b/", 6}}},
      {{{"pkg:dpkg/x", 1}, {"/etc/x", 2}}, 1, {{"", 3}}},
      {{{"pkg:dpkg/x", 1}, {"/etc/x", 2}}, 2, {{"/etc/", 2}, {"pkg:dpkg/", 1}}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(CommonPrefixes(cases[i].in, cases[i].max), cases[i].want) << "case " << i;
  }
}

TEST(FoldJsonTest, InconsistentCountsAreRefused) {
  const std::string base = R"({"target":"h","baseline":"b","started":"2026-11-01T00:00:00Z",)"
                           R"("finished":"2026-11-01T00:00:01Z","events":[],)";
  for (const char* bad : {
           R"("folded":{"events":3,"kinds":{"added":2},"severities":{"low":2}}})",
           R"("folded":{"events":2,"kinds":{"added":2},"severities":{"low":1}}})",
           R"("folded":{"events":2,"kinds":{"sideways":2},"severities":{"low":2}}})",
           R"("folded":{"events":2,"kinds":{"added":2},"severities":{"low":2},)"
           R"("prefixes":[{"prefix":"/a/","events":3}]}})",
           R"("summary":{"kinds":{"added":1},"severities":{"low":1}},)"
           R"("folded":{"events":2,"kinds":{"added":2},"severities":{"low":2}}})",
           R"("part_of":"x","part":0})",
       }) {
    auto v = web::json::value::parse(base + std::string(bad));
    EXPECT_FALSE(CheckResultFromJson(v).ok()) << bad;
  }
  auto ok = web::json::value::parse(
      base + R"("summary":{"kinds":{"added":5},"severities":{"low":5}},)"
             R"("folded":{"events":2,"kinds":{"added":2},"severities":{"low":2},)"
             R"("prefixes":[{"prefix":"/a/","events":2}]}})");
  auto r = CheckResultFromJson(ok);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ReportCounts(*r).total, 5);
}

}  // namespace
}  // namespace driftwatch
