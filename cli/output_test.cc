#include "cli/output.h"

#include <gtest/gtest.h>

namespace driftwatch::cli {
namespace {

TEST(FormatWalkTest, SaysHowTheCheckWalked) {
  WalkInfo journal;
  journal.journal = true;
  journal.dirty_paths = 12;
  EXPECT_EQ(FormatWalk(journal), "walked 12 dirty paths (realtime journal)");
  journal.dirty_paths = 1;
  EXPECT_EQ(FormatWalk(journal), "walked 1 dirty path (realtime journal)");
  journal.dirty_paths = 0;
  EXPECT_EQ(FormatWalk(journal), "walked 0 dirty paths (realtime journal)");

  WalkInfo full;
  full.full_reason = "the journal starts at snapshot 12 but the latest check is snapshot 14";
  EXPECT_EQ(FormatWalk(full),
            "walked everything: the journal starts at snapshot 12 but the latest check is "
            "snapshot 14");
  // An ordinary check without realtime says nothing about it.
  EXPECT_EQ(FormatWalk(WalkInfo()), "");
}

}  // namespace
}  // namespace driftwatch::cli
