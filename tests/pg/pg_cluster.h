// A throw-away PostgreSQL cluster for tests: initdb + pg_ctl run as the
// `postgres` user in a fresh temporary directory (the data directory may be
// elsewhere, such as on a small tmpfs), listening on 127.0.0.1
// only (a free port) with its unix socket inside that directory, trust
// authentication for the superuser `driftwatch`. Stop() (also run by the
// destructor) stops the server and removes the directory.
//
// Needs root (to run as `postgres`) and Debian's postgresql server binaries
// (/usr/lib/postgresql/*/bin); SkipReason() says why it cannot run.
//
// Thread-safety: Sql() may be called from several threads (one connection
// per call); Start/StartServer/Stop from one.
#ifndef DRIFTWATCH_TESTS_PG_PG_CLUSTER_H_
#define DRIFTWATCH_TESTS_PG_PG_CLUSTER_H_

#include <dirent.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/testing/run.h"

namespace driftwatch::pgtest {

using Rows = std::vector<std::vector<std::string>>;

class PgCluster {
 public:
  PgCluster() = default;
  ~PgCluster() { Stop(); }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // "" when a cluster can be started here.
  static std::string SkipReason() {
    if (geteuid() != 0) return "needs root: runs initdb/pg_ctl as the postgres user";
    if (BinDir().empty()) {
      return "postgres server binaries missing (/usr/lib/postgresql/*/bin/initdb); install "
             "Debian's postgresql (scripts/test.d/pg.deps)";
    }
    if (testutil::Run("id -u postgres >/dev/null 2>&1").exit_code != 0) {
      return "no postgres user (install Debian's postgresql)";
    }
    return "";
  }

  // The newest installed server's bin directory, or "".
  static std::string BinDir() {
    std::vector<std::string> versions;
    if (DIR* d = opendir("/usr/lib/postgresql")) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n[0] != '.' && access(("/usr/lib/postgresql/" + n + "/bin/initdb").c_str(), X_OK) == 0)
          versions.push_back(n);
      }
      closedir(d);
    }
    if (versions.empty()) return "";
    std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
      return std::stoi(a) < std::stoi(b);
    });
    return "/usr/lib/postgresql/" + versions.back() + "/bin";
  }

  // Starts the cluster; "" on success, else what failed (with the log).
  // The data directory is `data_dir` when given (a new directory the
  // postgres user can create, on a file system of the test's choosing; the
  // test removes it), else one inside the temporary directory.
  // `server_options` ("-c name=value ...") go after the defaults, which
  // trade durability for speed (fsync and synchronous_commit off).
  std::string Start(const std::string& data_dir = "", const std::string& server_options = "") {
    server_options_ = server_options;
    char tmpl[] = "/tmp/dw_pg.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return "mkdtemp failed";
    dir_ = tmpl;
    data_ = data_dir.empty() ? dir_ + "/data" : data_dir;
    port_ = FreePort();
    const std::string bin = BinDir();
    auto r = testutil::Run("chown postgres: " + Q(dir_) + " && chmod 700 " + Q(dir_) + " 2>&1");
    if (r.exit_code != 0) return "chown: " + r.out;
    r = testutil::Run(AsPostgres() + Q(bin + "/initdb") + " -D " + Q(data_) +
                      " -A trust -U driftwatch -E UTF8 --no-locale --no-sync 2>&1");
    if (r.exit_code != 0) return "initdb: " + r.out;
    return StartServer();
  }

  // Starts the server of a started cluster again (after it stopped on its
  // own), on the same port; "" on success.
  std::string StartServer() {
    const std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                             dir_ +
                             " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                             " -c max_connections=100 -c shared_buffers=32MB " +
                             server_options_;
    auto r = testutil::Run(AsPostgres() + Q(BinDir() + "/pg_ctl") + " -D " + Q(data_) + " -l " +
                           Q(log()) + " -w -t 60 -o " + Q(opts) + " start 2>&1");
    if (r.exit_code != 0) return "pg_ctl start: " + r.out + testutil::Run("cat " + Q(log())).out;
    started_ = true;
    return "";
  }

  // True while the server's postmaster runs (pg_ctl status).
  bool Running() const {
    return testutil::Run(AsPostgres() + Q(BinDir() + "/pg_ctl") + " -D " + Q(data_) +
                         " status >/dev/null 2>&1")
               .exit_code == 0;
  }

  void Stop() {
    if (started_) {
      testutil::Run(AsPostgres() + Q(BinDir() + "/pg_ctl") + " -D " + Q(data_) +
                    " -m immediate -w stop >/dev/null 2>&1");
      started_ = false;
    }
    if (!dir_.empty()) {
      testutil::Run("rm -rf " + Q(dir_));
      dir_.clear();
    }
  }

  std::string Url(const std::string& db) const {
    return "postgresql://driftwatch@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string log() const { return dir_ + "/server.log"; }

  // Runs fixed test SQL on `db`; returns the rows, or sets *error.
  Rows Sql(const std::string& db, const std::string& sql, std::string* error = nullptr) const {
    Rows rows;
    PGconn* c = PQconnectdb(Url(db).c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      if (error) *error = PQerrorMessage(c);
      PQfinish(c);
      return rows;
    }
    PGresult* r = PQexec(c, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      if (error) *error = PQresultErrorMessage(r);
    } else {
      for (int i = 0; i < PQntuples(r); ++i) {
        rows.emplace_back();
        for (int j = 0; j < PQnfields(r); ++j) rows.back().push_back(PQgetvalue(r, i, j));
      }
    }
    PQclear(r);
    PQfinish(c);
    return rows;
  }

  // A fresh empty database; returns its URL ("" on failure).
  std::string NewDatabase(const std::string& name) {
    std::string err;
    Sql("postgres", "CREATE DATABASE " + name, &err);
    return err.empty() ? Url(name) : "";
  }

 private:
  static std::string Q(const std::string& s) { return testutil::Quote(s); }
  static std::string AsPostgres() { return "runuser -u postgres -- "; }
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
  }

  std::string dir_;
  std::string data_;
  std::string server_options_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace driftwatch::pgtest

#endif  // DRIFTWATCH_TESTS_PG_PG_CLUSTER_H_
