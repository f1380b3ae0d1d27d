-- 0008_monitor_tasks: phúc tra (spot-check) tasks pulled to the monitor's device and the
-- findings recorded offline, waiting to be sent (issue 13).
--
-- The file is SQLCipher-encrypted like everything else on the device, so the respondent's
-- contact carried by an open task is protected at rest. A task never carries the original
-- answers (the re-check is blind; the server sends only the key items to re-ask).
CREATE TABLE monitor_tasks (
    task_id    TEXT PRIMARY KEY NOT NULL,         -- spot-check task id (server's)
    monitor    TEXT NOT NULL,                     -- who pulled it: "<username>@<server url>"
    task_json  TEXT NOT NULL                      -- the task as GET /monitor/tasks gave it
               CHECK (json_valid(task_json)),     -- (contact only while open; personal data)
    pulled_at  TEXT NOT NULL                      -- when last refreshed from the server
) STRICT;

-- One finding per task, final once recorded on the device (as on the server). Sent with
-- POST /monitor/tasks/{task_id}/result; re-sending the same findings is answered with the same
-- receipt, so a cut connection never records them twice.
CREATE TABLE monitor_findings (
    task_id       TEXT PRIMARY KEY NOT NULL REFERENCES monitor_tasks (task_id),
    findings_json TEXT NOT NULL                   -- {visit_happened, answers, note}
                  CHECK (json_valid(findings_json)),
    recorded_at   TEXT NOT NULL,                  -- when the monitor recorded them
    state         TEXT NOT NULL DEFAULT 'pending' -- 'pending': to send; 'acked': answered by the
                  CHECK (state IN ('pending', 'acked')),  -- server (refused if last_error)
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0), -- failed send attempts
    last_error    TEXT,                           -- last failure; on 'acked': the refusal reason
    receipt_json  TEXT                            -- the server's receipt (comparison) once acked
                  CHECK (receipt_json IS NULL OR json_valid(receipt_json))
) STRICT;

CREATE INDEX monitor_findings_by_state ON monitor_findings (state, recorded_at);
