#include "core/text_diff.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/drift.h"
#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch {
namespace {

using testutil::Quote;
using testutil::Run;
using testutil::RunResult;
using testutil::TempDir;
using testutil::WriteFile;

constexpr char kDiff[] = "/usr/bin/diff";
constexpr char kPatch[] = "/usr/bin/patch";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// What GNU diff prints for pairs of texts, run in one shell for all the
// pairs queued (LC_ALL=C: the "\ No newline" line is translated in other
// locales); and what patch(1) makes of a diff.
class GnuDiff {
 public:
  // `flags`: more options, e.g. "--minimal" (the shortest script).
  size_t Add(const std::string& a, const std::string& b, int context = 3,
             const std::string& flags = "") {
    size_t i = count_++;
    std::string n = std::to_string(i);
    WriteFile(dir_ / ("a" + n), a);
    WriteFile(dir_ / ("b" + n), b);
    script_ += std::string(kDiff) + " " + flags + " -U" + std::to_string(context) +
               " --label OLD --label NEW a" + n + " b" + n + " > o" + n + "\n";
    return i;
  }

  // The outputs of the queued pairs, in the order they were added.
  std::vector<std::string> RunAll() {
    WriteFile(dir_ / "run.sh", script_);
    RunResult r = Run("cd " + Quote(dir_.path()) + " && LC_ALL=C sh run.sh; echo done");
    EXPECT_EQ(r.out, "done\n");
    std::vector<std::string> out;
    for (size_t i = 0; i < count_; ++i) out.push_back(ReadFile(dir_ / ("o" + std::to_string(i))));
    script_.clear();
    count_ = 0;
    return out;
  }

  std::string Unified(const std::string& a, const std::string& b, int context = 3) {
    Add(a, b, context);
    return RunAll()[0];
  }

  // Applies each diff to its text with patch(1), in one shell; the results.
  std::vector<std::string> PatchAll(const std::vector<std::pair<std::string, std::string>>& jobs) {
    std::string script;
    for (size_t i = 0; i < jobs.size(); ++i) {
      std::string n = std::to_string(i);
      WriteFile(dir_ / ("p" + n + ".orig"), jobs[i].first);
      WriteFile(dir_ / ("p" + n + ".diff"), jobs[i].second);
      script += std::string(kPatch) + " -s -o p" + n + ".out p" + n + ".orig p" + n + ".diff\n";
    }
    WriteFile(dir_ / "patch.sh", script);
    RunResult r = Run("cd " + Quote(dir_.path()) + " && LC_ALL=C sh patch.sh 2>&1; echo done");
    EXPECT_EQ(r.out, "done\n");
    std::vector<std::string> out;
    for (size_t i = 0; i < jobs.size(); ++i) {
      out.push_back(ReadFile(dir_ / ("p" + std::to_string(i) + ".out")));
    }
    return out;
  }

  // Applies `diff` to `a` with patch(1) and returns the result.
  std::string Patch(const std::string& a, const std::string& diff) {
    WriteFile(dir_ / "p.orig", a);
    WriteFile(dir_ / "p.diff", diff);
    std::string out = dir_ / "p.out";
    RunResult r = Run("LC_ALL=C " + std::string(kPatch) + " -s -o " + Quote(out) + " " +
                      Quote(dir_ / "p.orig") + " " + Quote(dir_ / "p.diff") + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return ReadFile(out);
  }

 private:
  TempDir dir_;
  std::string script_;
  size_t count_ = 0;
};

UnifiedDiffOptions Labels(int context = 3) {
  UnifiedDiffOptions o;
  o.old_label = "OLD";
  o.new_label = "NEW";
  o.context = context;
  return o;
}

std::string Join(const std::vector<std::string>& lines, bool final_newline, bool crlf) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || final_newline) out += crlf ? "\r\n" : "\n";
  }
  return out;
}

// Random edits of a random text: lines from a small vocabulary (so that
// lines repeat, which is where the choices between scripts lie) and unique
// ones; deletions, insertions, replacements and moved blocks.
struct PairGenerator {
  std::mt19937 rng;
  explicit PairGenerator(uint32_t seed) : rng(seed) {}

  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }

  // vocabulary 0: every line is unique.
  std::string RandomLine(size_t vocabulary) {
    if (vocabulary == 0 || Uniform(3) == 0) return "unique " + std::to_string(rng());
    static const char* const kCommon[] = {"",   "}", "{",  "  return 0;", "# comment",
                                          "\t", "x", "fi", "end",         "  "};
    return kCommon[Uniform(std::min<size_t>(vocabulary, std::size(kCommon)))];
  }

  std::vector<std::string> Lines(size_t n, size_t vocabulary) {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) v.push_back(RandomLine(vocabulary));
    return v;
  }

  // With vocabulary 0 only deletions, insertions and replacements of
  // unique lines: then one script is the shortest.
  std::vector<std::string> Edit(std::vector<std::string> v, size_t edits, size_t vocabulary) {
    for (size_t e = 0; e < edits; ++e) {
      size_t pos = v.empty() ? 0 : Uniform(v.size() + 1);
      switch (Uniform(vocabulary == 0 ? 3 : 5)) {
        case 0:
          if (pos < v.size()) v.erase(v.begin() + pos);
          break;
        case 1:
          v.insert(v.begin() + pos, RandomLine(vocabulary));
          break;
        case 2:
          if (pos < v.size()) v[pos] = RandomLine(vocabulary);
          break;
        case 3: {  // move a block
          if (v.size() < 4) break;
          size_t from = Uniform(v.size() - 2);
          size_t len = 1 + Uniform(std::min<size_t>(5, v.size() - from));
          std::vector<std::string> block(v.begin() + from, v.begin() + from + len);
          v.erase(v.begin() + from, v.begin() + from + len);
          size_t to = Uniform(v.size() + 1);
          v.insert(v.begin() + to, block.begin(), block.end());
          break;
        }
        default:  // duplicate a line
          if (pos < v.size()) v.insert(v.begin() + pos, v[pos]);
          break;
      }
    }
    return v;
  }
};

TEST(UnifiedDiffTest, EqualInputsGiveNothing) {
  EXPECT_EQ(UnifiedDiff("", "", Labels()), "");
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", Labels()), "");
  EXPECT_EQ(UnifiedDiff("no newline", "no newline", Labels()), "");
}

TEST(UnifiedDiffTest, ConfigFileChangedOnThreeLines) {
  std::vector<std::string> lines = {"# sshd_config",
                                    "Port 22",
                                    "AddressFamily any",
                                    "ListenAddress 0.0.0.0",
                                    "PermitRootLogin no",
                                    "PubkeyAuthentication yes",
                                    "PasswordAuthentication no",
                                    "ChallengeResponseAuthentication no",
                                    "UsePAM yes",
                                    "X11Forwarding no",
                                    "PrintMotd no",
                                    "AcceptEnv LANG LC_*",
                                    "Subsystem sftp /usr/lib/openssh/sftp-server",
                                    "ClientAliveInterval 300",
                                    "ClientAliveCountMax 2",
                                    "MaxAuthTries 3",
                                    "LoginGraceTime 30",
                                    "AllowUsers admin deploy",
                                    "Banner none",
                                    "LogLevel INFO"};
  std::vector<std::string> changed = lines;
  changed[1] = "Port 2222";
  changed[4] = "PermitRootLogin yes";
  changed[17] = "AllowUsers admin deploy intruder";
  std::string old_text = Join(lines, true, false);
  std::string new_text = Join(changed, true, false);
  UnifiedDiffOptions o;
  o.old_label = "/etc/ssh/sshd_config";
  o.new_label = "/etc/ssh/sshd_config";
  std::string expected =
      "--- /etc/ssh/sshd_config\n"
      "+++ /etc/ssh/sshd_config\n"
      "@@ -1,8 +1,8 @@\n"
      " # sshd_config\n"
      "-Port 22\n"
      "+Port 2222\n"
      " AddressFamily any\n"
      " ListenAddress 0.0.0.0\n"
      "-PermitRootLogin no\n"
      "+PermitRootLogin yes\n"
      " PubkeyAuthentication yes\n"
      " PasswordAuthentication no\n"
      " ChallengeResponseAuthentication no\n"
      "@@ -15,6 +15,6 @@\n"
      " ClientAliveCountMax 2\n"
      " MaxAuthTries 3\n"
      " LoginGraceTime 30\n"
      "-AllowUsers admin deploy\n"
      "+AllowUsers admin deploy intruder\n"
      " Banner none\n"
      " LogLevel INFO\n";
  EXPECT_EQ(UnifiedDiff(old_text, new_text, o), expected);
  GnuDiff gnu;
  EXPECT_EQ(UnifiedDiff(old_text, new_text, Labels()), gnu.Unified(old_text, new_text));
}

TEST(UnifiedDiffTest, EdgeCasesMatchGnuDiff) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "a\n"},
      {"a\n", ""},
      {"", "a"},
      {"a", ""},
      {"a", "a\n"},
      {"a\n", "a"},
      {"a", "b"},
      {"a\nb", "a\nb\n"},
      {"a\nb\nc", "a\nx\nc"},
      {"x\na\nb\nc", "a\nb\nc"},
      {"a\r\nb\r\n", "a\nb\n"},
      {"a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"},
      {"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", "a\nb\nc\nd\ne\nF\ng\nh\ni\nj\nk"},
      {"\n\n\n", "\n\n\n\n"},
      {"a\na\na\n", "a\na\n"},
      {"a\nb\na\nb\n", "b\na\nb\na\n"},
      {"same\n", "same\nsame\nsame\n"},
  };
  GnuDiff gnu;
  for (const auto& [a, b] : cases) {
    for (int context : {0, 1, 3}) gnu.Add(a, b, context);
  }
  std::vector<std::string> want = gnu.RunAll();
  size_t i = 0;
  for (const auto& [a, b] : cases) {
    for (int context : {0, 1, 3}) {
      EXPECT_EQ(UnifiedDiff(a, b, Labels(context)), want[i++])
          << "old=" << Quote(a) << " new=" << Quote(b) << " context=" << context;
    }
  }
}

// Deleted and inserted lines of a unified diff.
size_t ChangedLines(const std::string& diff) {
  size_t n = 0;
  for (size_t pos = 0; pos < diff.size();) {
    size_t nl = diff.find('\n', pos);
    if (nl == std::string::npos) nl = diff.size();
    std::string_view line(diff.data() + pos, nl - pos);
    if ((line.starts_with("-") && !line.starts_with("--- ")) ||
        (line.starts_with("+") && !line.starts_with("+++ "))) {
      ++n;
    }
    pos = nl + 1;
  }
  return n;
}

struct Pair {
  std::string old_text, new_text;
  int context = 3;
};

std::vector<Pair> GeneratedPairs(uint32_t seed, int rounds, bool unique_lines) {
  PairGenerator gen(seed);
  std::vector<Pair> pairs;
  for (int round = 0; round < rounds; ++round) {
    size_t vocabulary = unique_lines ? 0 : 1 + gen.Uniform(10);
    bool small = round < rounds / 2;
    std::vector<std::string> a = gen.Lines(gen.Uniform(small ? 12 : 60), vocabulary);
    std::vector<std::string> b = gen.Edit(a, gen.Uniform(small ? 4 : 12), vocabulary);
    bool a_newline = gen.Uniform(5) != 0;
    bool b_newline = gen.Uniform(5) != 0;
    bool crlf_a = gen.Uniform(10) == 0;
    bool crlf_b = crlf_a ? gen.Uniform(3) != 0 : gen.Uniform(20) == 0;
    int context = round % 7 == 0 ? static_cast<int>(gen.Uniform(6)) : 3;
    pairs.push_back({Join(a, a_newline, crlf_a), Join(b, b_newline, crlf_b), context});
  }
  return pairs;
}

// Where one script is the shortest (lines that do not repeat, edited by
// deletions, insertions and replacements), the output is diff's, byte for
// byte: hunks, context, line numbers, the "\ No newline" lines.
TEST(UnifiedDiffTest, GeneratedPairsWithOneShortestScriptMatchGnuDiff) {
  std::vector<Pair> pairs = GeneratedPairs(20261205, 200, /*unique_lines=*/true);
  GnuDiff gnu;
  for (const Pair& p : pairs) gnu.Add(p.old_text, p.new_text, p.context);
  std::vector<std::string> want = gnu.RunAll();
  int mismatches = 0;
  for (size_t i = 0; i < pairs.size() && mismatches < 3; ++i) {
    const Pair& p = pairs[i];
    std::string got = UnifiedDiff(p.old_text, p.new_text, Labels(p.context));
    if (got != want[i]) {
      ++mismatches;
      ADD_FAILURE() << "pair " << i << " context " << p.context << "\nold:\n"
                    << p.old_text << "\nnew:\n"
                    << p.new_text << "\nwant:\n"
                    << want[i] << "\ngot:\n"
                    << got;
    }
  }
}

// Where lines repeat, several scripts are equally short and diff's choice
// among them follows its own heuristics: the diff must apply (patch turns
// old into new) and change exactly as many lines as `diff --minimal`.
TEST(UnifiedDiffTest, GeneratedPairsWithRepeatedLinesApplyAndAreShortest) {
  std::vector<Pair> pairs = GeneratedPairs(20261206, 150, /*unique_lines=*/false);
  GnuDiff gnu;
  std::vector<std::pair<std::string, std::string>> jobs;
  for (const Pair& p : pairs) {
    gnu.Add(p.old_text, p.new_text, p.context, "--minimal");
    jobs.emplace_back(p.old_text, UnifiedDiff(p.old_text, p.new_text, Labels(p.context)));
  }
  std::vector<std::string> want = gnu.RunAll();
  std::vector<std::string> patched = gnu.PatchAll(jobs);
  int failures = 0;
  for (size_t i = 0; i < pairs.size() && failures < 3; ++i) {
    const Pair& p = pairs[i];
    const std::string& got = jobs[i].second;
    if (ChangedLines(got) != ChangedLines(want[i]) || patched[i] != p.new_text) {
      ++failures;
      ADD_FAILURE() << "pair " << i << " context " << p.context << "\nold:\n"
                    << p.old_text << "\nnew:\n"
                    << p.new_text << "\ndiff --minimal:\n"
                    << want[i] << "\ngot:\n"
                    << got;
    }
  }
}

TEST(UnifiedDiffTest, LongFiles) {
  PairGenerator gen(7);
  struct Shape {
    size_t lines, edits, vocabulary;
  };
  // A long file of distinct lines with few edits: diff's output exactly.
  std::vector<std::string> a = gen.Lines(5000, 0);
  std::string old_text = Join(a, true, false);
  std::string new_text = Join(gen.Edit(a, 20, 0), true, false);
  GnuDiff gnu;
  EXPECT_EQ(UnifiedDiff(old_text, new_text, Labels()), gnu.Unified(old_text, new_text));
  // Many edits, lines that repeat very often, and two unrelated texts of two
  // kinds of line (where the search reaches its cost cap): the diff applies
  // and is not much longer than diff's own.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (Shape s : {Shape{3000, 600, 4}, Shape{20000, 3000, 10}}) {
    a = gen.Lines(s.lines, s.vocabulary);
    pairs.emplace_back(Join(a, true, false), Join(gen.Edit(a, s.edits, s.vocabulary), true, false));
  }
  std::mt19937 rng(6);
  std::string x, y;
  for (int i = 0; i < 30000; ++i) {
    x += std::to_string(rng() % 2) + "\n";
    y += std::to_string(rng() % 2) + "\n";
  }
  pairs.emplace_back(x, y);
  for (const auto& [a, b] : pairs) gnu.Add(a, b);
  std::vector<std::string> want = gnu.RunAll();
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::string got = UnifiedDiff(pairs[i].first, pairs[i].second, Labels());
    EXPECT_EQ(gnu.Patch(pairs[i].first, got), pairs[i].second) << "pair " << i;
    EXPECT_LE(ChangedLines(got), ChangedLines(want[i]) * 5 / 4) << "pair " << i;
  }
}

TEST(UnifiedDiffTest, HundredThousandChangedLinesApply) {
  std::string old_text;
  std::string new_text;
  for (int i = 0; i < 100000; ++i) {
    old_text += "line " + std::to_string(i) + "\n";
    new_text += "LINE " + std::to_string(i) + "\n";
  }
  // No line of one side is on the other: the search has nothing to do.
  std::string diff = UnifiedDiff(old_text, new_text, Labels());
  GnuDiff gnu;
  EXPECT_EQ(gnu.Patch(old_text, diff), new_text);
}

TEST(UnifiedDiffTest, ShuffledLinesStillApply) {
  // Every line matches many lines of the other side: the search would be
  // quadratic without its cut-off.
  std::mt19937 rng(42);
  std::vector<std::string> a;
  for (int i = 0; i < 50000; ++i) a.push_back(std::to_string(rng() % 50));
  std::vector<std::string> b = a;
  std::shuffle(b.begin(), b.end(), rng);
  std::string old_text = Join(a, true, false);
  std::string new_text = Join(b, true, false);
  // The cost cap bounds the work (about 1.3 s here, 14 s under ASan); the
  // diff it settles for is longer than the shortest but still applies.
  std::string diff = UnifiedDiff(old_text, new_text, Labels());
  GnuDiff gnu;
  EXPECT_EQ(gnu.Patch(old_text, diff), new_text);
}

TEST(UnifiedDiffTest, MaxBytesCutsAtALineEndAndMarksTheCut) {
  std::string old_text;
  std::string new_text;
  for (int i = 0; i < 2000; ++i) {
    old_text += "value " + std::to_string(i) + "\n";
    new_text += "value " + std::to_string(i * 7) + "\n";
  }
  std::string full = UnifiedDiff(old_text, new_text, Labels());
  ASSERT_GT(full.size(), 4096u);
  for (size_t max : {size_t{4096}, size_t{1000}, size_t{100}, size_t{33}}) {
    UnifiedDiffOptions o = Labels();
    o.max_bytes = max;
    std::string cut = UnifiedDiff(old_text, new_text, o);
    ASSERT_LE(cut.size(), std::max(max, kDiffTruncatedMarker.size())) << max;
    ASSERT_TRUE(cut.ends_with(kDiffTruncatedMarker)) << max;
    std::string body = cut.substr(0, cut.size() - kDiffTruncatedMarker.size());
    EXPECT_TRUE(body.empty() || body.back() == '\n') << max;
    EXPECT_TRUE(full.starts_with(body)) << max;
    // As much as fits: the next line of the full diff would not have.
    size_t next_end = full.find('\n', body.size());
    EXPECT_GT(next_end + 1 + kDiffTruncatedMarker.size(), max) << max;
  }
  UnifiedDiffOptions roomy = Labels();
  roomy.max_bytes = full.size();
  EXPECT_EQ(UnifiedDiff(old_text, new_text, roomy), full);
}

TEST(LooksBinaryTest, NulInTheProbeIsBinary) {
  EXPECT_FALSE(LooksBinary(""));
  EXPECT_FALSE(LooksBinary("plain text\n\xff\xfe latin-1 is still text\n"));
  EXPECT_TRUE(LooksBinary(std::string("ELF\0\1", 5)));
  std::string late(kBinaryProbeBytes, 'a');
  late.push_back('\0');
  EXPECT_FALSE(LooksBinary(late));
  late[kBinaryProbeBytes - 1] = '\0';
  EXPECT_TRUE(LooksBinary(late));
}

}  // namespace
}  // namespace driftwatch
