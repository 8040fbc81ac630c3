// `driftwatch containers --format json` as the runtime tests read it, and
// the assertions on one container's row.
#ifndef DRIFTWATCH_TESTS_RUNTIMES_ROWS_H_
#define DRIFTWATCH_TESTS_RUNTIMES_ROWS_H_

#include <string>
#include <vector>

#include <gtest/gtest.h>
// After gtest: cpprest defines a U() macro that gtest's headers would see.
#include <cpprest/json.h>

#include "tests/runtimes/runtimes.h"

namespace driftwatch::rt {

// `driftwatch containers --format json --state-dir SANDBOX/dw-state FLAGS`:
// the array, or null with *error.
web::json::value ContainersJson(const std::vector<std::string>& flags, std::string* error);

// The row whose "id" is `id`; null when none. Fails the test when several.
web::json::value FindById(const web::json::value& list, const std::string& id);

// Runtime, name, id, image, image id and digest, labels, pid and start time
// of the row equal what the runtime says (start time: when it says).
void ExpectIdentity(const web::json::value& row, const Identity& want, const std::string& runtime,
                    const std::string& name);

// The container's volume, bind mount and tmpfs are in "excluded" and no
// event is inside them.
void ExpectMountsLeftOut(const web::json::value& row, const ContainerSpec& spec);

}  // namespace driftwatch::rt

#endif  // DRIFTWATCH_TESTS_RUNTIMES_ROWS_H_
