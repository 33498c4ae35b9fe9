// etcdctl backup: see backup.cpp.
#pragma once

#include <string>

namespace uetcd::ctl {

// Copies the newest snapshot and the WAL after it from data_dir (wal_dir: "" = its
// member/wal) into backup_dir (backup_wal_dir likewise) with fresh member and cluster IDs.
// Returns the exit code; a failure prints one line on stderr.
int run_backup(const std::string& data_dir, const std::string& wal_dir,
    const std::string& backup_dir, const std::string& backup_wal_dir);

}  // namespace uetcd::ctl
