// @ts-check
// JSDoc typedefs of what the dashboard reads from and sends to /api/v1. They mirror the Rust
// types: crates/protocol/src/wire.rs (UserInfo, Round, Assignment, ReviewDecision, KeyItem,
// MonitorTask, RecordAck), crates/server/src/handlers/*.rs (answer types of the server) and the
// contract of docs/design/round-operations.md; the final shapes are in crates/server/API.md.
// Nothing here runs: the module only gives `import('./types.js').X` names to the other modules.

/**
 * A problem body (crates/server/src/problem.rs).
 * @typedef {object} Problem
 * @property {string} code             e.g. "403.1" (never shown)
 * @property {string} [message]        English
 * @property {string} [message_en]     English
 * @property {string} [message_vi]     Vietnamese
 * @property {Record<string, any>} [details]
 */

/** @typedef {'admin'|'supervisor'|'surveyor'|'monitor'|'ministry'} Role */

/**
 * @typedef {'rounds.read'|'rounds.manage'|'sample.manage'|'assignments.manage'|'progress.read'|
 *   'users.manage'|'devices.manage'|'enrolment.issue'|'review'|'quarantine.manage'|
 *   'spot_checks.manage'|'spot_checks.do'|'reports.read'|'index.read'|'audit.read'|
 *   'catalogues.read'|'catalogues.manage'|'handover.import'|'microdata.read'|
 *   'forms.read'|'forms.manage'} Capability
 */

/** A catalogue entry by code and name. @typedef {{code: string, name: string}} Named */

/**
 * `scope` of a user as sent (codes) — `POST /users`, `PATCH /users/{id}`.
 * @typedef {object} ScopeCodes
 * @property {string[]} units
 * @property {string[]} agencies
 */

/**
 * `scope` of a user as answered (codes with names).
 * @typedef {object} Scope
 * @property {Named[]} units
 * @property {Named[]} agencies
 */

/**
 * `GET /me`.
 * @typedef {object} Me
 * @property {string} id
 * @property {string} username
 * @property {string} display_name
 * @property {Role} role
 * @property {Scope} [scope]
 * @property {Capability[]} capabilities
 */

/**
 * wire::UserInfo (`POST /login` → `{token, user}`).
 * @typedef {object} UserInfo
 * @property {string} id
 * @property {string} username
 * @property {string} display_name
 * @property {Role} role
 */

/**
 * `GET /users` row.
 * @typedef {UserInfo & {scope?: Scope, disabled?: boolean, last_sync_at?: string|null}} User
 */

/**
 * `GET /devices?user_id=` row.
 * @typedef {object} Device
 * @property {string} id
 * @property {string} name
 * @property {string} user_id
 * @property {string} username
 * @property {string} enrolled_at
 * @property {string|null} last_sync_at
 * @property {string|null} revoked_at
 */

/**
 * `POST /enrolment-codes` → the code for one device.
 * @typedef {object} EnrolmentCode
 * @property {string} code
 * @property {string} expires_at
 * @property {string} [server_url]
 * @property {string|null} [fingerprint]
 * @property {string} [payload]  `sipas-enrol:1:<base64url JSON {server, code, cert_sha256}>`
 * @property {string} [qr_svg]   SVG QR code of `payload`
 */

/** wire::FormKey. @typedef {{form_id: string, version: string}} FormKey */

/**
 * `GET /forms` row.
 * @typedef {object} FormInfo
 * @property {string} id
 * @property {string} version
 * @property {string} key
 * @property {string} title_vi
 * @property {string} [title_en]
 * @property {'draft'|'published'|'retired'} status      issue 12
 * @property {string} content_hash
 * @property {string|null} published_at
 * @property {string|null} [retired_at]
 * @property {boolean} [has_xlsx]
 */

/**
 * wire::OutsideSample.
 * @typedef {{replacement: boolean, walk_in: boolean, cap_per_unit: number}} OutsideSample
 */

/** @typedef {'planned'|'open'|'closed'} RoundStatus */

/**
 * wire::Round (with the round-operations fields).
 * @typedef {object} Round
 * @property {string} id
 * @property {string} name
 * @property {FormKey} form
 * @property {string} [form_title]
 * @property {string} starts_on     YYYY-MM-DD
 * @property {string} ends_on       YYYY-MM-DD
 * @property {OutsideSample} [outside_sample]
 * @property {string[]} [units]
 * @property {string[]} [agencies]
 * @property {Record<string, number>} [targets]  agency code → target sample size
 * @property {RoundStatus} [status]
 * @property {string} [closed_at]   set once closed
 */

/**
 * `GET /units?on=` row.
 * @typedef {object} Unit
 * @property {string} code
 * @property {string} name
 * @property {string} level
 * @property {string|null} parent_code
 * @property {string} valid_from
 * @property {string|null} valid_to
 */

/**
 * `GET /agencies?on=` row.
 * @typedef {object} Agency
 * @property {string} code
 * @property {string} name
 * @property {string} kind
 * @property {string} kind_name_vi
 * @property {string} kind_name_en
 * @property {string} unit_code
 * @property {string} [unit_name]
 * @property {string} valid_from
 * @property {string|null} valid_to
 */

/** `GET /fields` row. @typedef {Named} Field */

/**
 * `GET /procedures?field=` row.
 * @typedef {{code: string, name: string, field_code: string, national_code?: string|null}} Procedure
 */

/**
 * One bad row of a table import (`details.errors` of a 400.3, or `errors` of a preview).
 * @typedef {object} RowError
 * @property {number} row        1 = header
 * @property {string} [column]
 * @property {string} message_vi
 * @property {string} message_en
 */

/**
 * `POST /rounds/{id}/sample?preview=true` and catalogue previews.
 * @typedef {object} ImportPreview
 * @property {number} rows
 * @property {RowError[]} errors
 * @property {SamplePreviewRow[]} [preview]
 */

/**
 * @typedef {object} SamplePreviewRow
 * @property {number} row
 * @property {string} unit_code
 * @property {string} [unit_name]
 * @property {string} [agency_name]
 * @property {string} [field_name]
 * @property {string} [procedure]
 */

/** @typedef {'not_visited'|'collected'|'refused'|'absent'|'moved'} AssignmentStatus */

/**
 * `GET /rounds/{id}/assignments` item (no contact data).
 * @typedef {object} AssignmentRow
 * @property {string} id
 * @property {string} unit_code
 * @property {string} [unit_name]
 * @property {string|null} [agency_code]
 * @property {string|null} [agency_name]
 * @property {string|null} [field_name]
 * @property {string} [procedure]
 * @property {AssignmentStatus|string} status
 * @property {string|null} surveyor_id
 * @property {string|null} [surveyor_name]
 * @property {string} [origin]
 */

/** @typedef {{total: number, items: AssignmentRow[]}} AssignmentPage */

/**
 * `GET /rounds/{id}/progress?by=` row.
 * @typedef {object} ProgressRow
 * @property {string} key
 * @property {string} name
 * @property {string|null} [code]
 * @property {number} sampled
 * @property {number} visited
 * @property {number} completed
 * @property {number} refused
 * @property {number} absent
 * @property {number} moved
 * @property {number} response_rate   0–1
 * @property {number|null} [target]
 * @property {number} [assigned]       sampled rows given to a surveyor
 * @property {number} [collected]
 * @property {number} [non_response]
 * @property {number} [synced]         current responses, of every origin
 * @property {number} [replacement]    of `synced`: outside the sample
 * @property {number} [walk_in]        of `synced`: outside the sample
 */

/**
 * `GET /rounds/{id}/progress?by=` (handlers/rounds.rs ProgressReport; `total` has no key/name).
 * @typedef {{round_id: string, by: 'surveyor'|'unit'|'agency', total: ProgressRow, rows: ProgressRow[]}} ProgressReport
 */

/**
 * review::QualityFlag.
 * @typedef {{kind: 'too_fast', seconds: number, expected_min: number} |
 *   {kind: 'straight_lining', share: number, items: number, value: number}} QualityFlag
 */

/**
 * wire::ReviewDecision (+ reviewer_id in details).
 * @typedef {object} ReviewDecision
 * @property {string} response_id
 * @property {number} revision
 * @property {'approved'|'rejected'} decision
 * @property {string|null} [comment]
 * @property {Record<string, string>} item_comments
 * @property {string} decided_at
 * @property {string} [reviewer_id]
 */

/**
 * `GET /review/queue` item (handlers/review.rs QueueItem).
 * @typedef {object} QueueItem
 * @property {string} response_id
 * @property {number} revision
 * @property {string} surveyor_id
 * @property {string|null} surveyor_name
 * @property {string} unit_code
 * @property {string} [unit_name]
 * @property {string} completed_at
 * @property {QualityFlag[]} quality_flags
 * @property {'approved'|'rejected'|null} decision
 */

/**
 * `GET /responses/{id}/{rev}` (handlers/review.rs ResponseDetail).
 * @typedef {object} ResponseDetail
 * @property {any} response
 * @property {string} surveyor_id
 * @property {string} [surveyor_name]
 * @property {string} form_title
 * @property {{code: string, group_code: string, label_vi: string, answer: any, display_vi: string}[]} items
 * @property {QualityFlag[]} quality_flags
 * @property {ReviewDecision[]} decisions
 */

/**
 * `GET /rounds/{id}/spot-checks` item (handlers/spot_checks.rs TaskView).
 * @typedef {object} SpotTask
 * @property {string} task_id
 * @property {string} response_id
 * @property {number} revision
 * @property {string} surveyor_id
 * @property {string|null} monitor_id
 * @property {'open'|'done'} state
 * @property {boolean} flagged
 * @property {QualityFlag[]} quality_flags
 * @property {string} unit_code
 * @property {number|null} agreement_rate
 */

/**
 * wire::KeyItem.
 * @typedef {object} KeyItem
 * @property {string} code
 * @property {string} label_vi
 * @property {string} type
 * @property {{value: any, label: any}[]} [options]
 * @property {{points: {value: number, label: any}[], no_answer?: {value: number, label: any}}} [scale]
 * @property {number} [min]
 * @property {number} [max]
 * @property {number} [max_length]
 */

/**
 * wire::MonitorTask.
 * @typedef {object} MonitorTask
 * @property {string} task_id
 * @property {string} response_id
 * @property {string} round_id
 * @property {string} unit_code
 * @property {string|null} [procedure]
 * @property {KeyItem[]} key_items
 * @property {{name: string, address: string, phone?: string|null}|null} [contact]
 * @property {'open'|'done'} state
 */

/**
 * `GET /rounds/{id}/discrepancies` row (SurveyorDiscrepancy + surveyor_name).
 * @typedef {object} DiscrepancyRow
 * @property {string} surveyor_id
 * @property {string|null} surveyor_name
 * @property {number} checked
 * @property {number} discrepant
 * @property {number} inconclusive
 * @property {number|null} rate
 * @property {boolean} flagged
 */

/**
 * `GET /quarantine` entry (ingest.rs QuarantineEntry).
 * @typedef {object} QuarantineEntry
 * @property {string} id
 * @property {string} response_id
 * @property {number} revision
 * @property {string|null} [round_id]
 * @property {string|null} [unit_code]
 * @property {string|null} [assignment_id]
 * @property {string} surveyor_id
 * @property {string|null} [device_id]
 * @property {string} reason_code
 * @property {string} reason
 * @property {{item_code: string, kind: string, message_vi: string, message: string}[]} issues
 * @property {string} received_at
 * @property {'accepted'|'dismissed'|null} resolution
 * @property {string|null} [resolved_by]
 * @property {string|null} [resolved_at]
 * @property {string|null} [resolution_note]
 * @property {'capi'|'self_personal'|'self_open'} mode how the record was collected
 */

/**
 * wire::RecordAck.
 * @typedef {object} RecordAck
 * @property {string} id
 * @property {number} revision
 * @property {'accepted'|'duplicate'|'conflict'|'invalid'} status
 * @property {string} [reason]
 * @property {string} [reason_code]
 * @property {string} [quarantine_id]
 */

/**
 * `GET /rounds/{id}/report?format=json`.
 * @typedef {object} Report
 * @property {{form: FormKey, aggregation: string, data_as_of: string, generated_at: string}} stamp
 * @property {number} min_n
 * @property {ReportRow[]} rows
 */

/**
 * @typedef {object} ReportRow
 * @property {string} round_id
 * @property {string} unit_code
 * @property {string} [unit_name]
 * @property {'overall'|'group'|'criterion'} level
 * @property {string} code
 * @property {string} label
 * @property {string} [label_en]
 * @property {number} valid_n
 * @property {number|null} satisfied_n
 * @property {number|null} pct_satisfied
 * @property {number|null} mean
 * @property {boolean} suppressed
 */

/**
 * `GET /audit` row (storage AuditEntry).
 * @typedef {{seq: number, at: string, actor: string|null, action: string, entity_id: string|null}} AuditEntry
 */

/**
 * `POST /handover` (handlers/handover.rs HandoverResult).
 * @typedef {{device_id: string, surveyor_id: string, exported_at: string, acks: RecordAck[]}} HandoverResult
 */

export {};
