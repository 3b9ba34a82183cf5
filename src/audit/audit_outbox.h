// Moving `sightline admin`'s audit records into the trail (docs/audit.md, "Admin
// actions from `sightline admin`").
//
// The trail has one writer, the server; `sightline admin` is another process. Each of
// its changes to DATA/meta.db writes its audit record into the database's outbox in
// the same transaction (auth/metadata_db.h), and the server calls DrainAuditOutbox at
// start-up and once a second: the rows are appended to the trail as admin records
// (actor, action, target, details as written, plus "outbox_id"), and deleted only
// after the append is durable. A crash between the two appends the rows again at the
// next drain: at least once, and a repeat carries the same outbox_id.
//
// Thread-safety: call from one thread at a time (the server's main tick).
#pragma once

#include <cstddef>

#include "audit/audit_log.h"
#include "auth/metadata_db.h"
#include "common/status.h"

namespace sightline::audit {

// Moves up to max_records rows; returns how many moved. The rows stay when the trail
// refuses them (they are retried at the next call).
Result<size_t> DrainAuditOutbox(auth::MetadataDb* db, AuditLog* log, size_t max_records = 1000);

// The trail's record for one outbox row (exposed for tests).
AuditRecord OutboxToRecord(const auth::OutboxRecord& row);

}  // namespace sightline::audit
