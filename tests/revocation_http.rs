//! Cutting people and devices off, against the real `sipas-server` binary on SQLite and
//! PostgreSQL: `POST /logout`, `POST /users/{id}/disable` and `/enable`, `GET /devices`,
//! `POST /devices/{id}/revoke`, with their role rules and audit entries.
use sipas_testkit::{fixture, raw_http, server};

use fixture::{client, enrol_device, seed_people};
use raw_http::{Answer, Req, send};
use server::{Backend, TestServer};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{EnrolmentCode, EnrolmentCodeRequest, UserInfo};
use sipas_sync::ApiClient;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_on_sqlite() {
    revocation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_on_postgres() {
    revocation(Backend::Postgres).await;
}

const PASSWORD: &str = "mat-khau-rat-dai-1";

async fn get(server: &TestServer, path: &str, token: &str) -> Answer {
    send(&server.url, Req::new("GET", path).token(token)).await
}

async fn post(server: &TestServer, path: &str, token: &str) -> Answer {
    send(&server.url, Req::new("POST", path).token(token)).await
}

/// `GET /me` with `token`: 200, or the problem code.
async fn me(server: &TestServer, token: &str) -> Result<(), String> {
    let a = get(server, "/api/v1/me", token).await;
    if a.status == 200 {
        Ok(())
    } else {
        Err(a.problem())
    }
}

/// Signs in: the session token, or the problem code.
async fn login(server: &TestServer, username: &str, password: &str) -> Result<String, String> {
    let a = send(
        &server.url,
        Req::new("POST", "/api/v1/login")
            .json(serde_json::json!({ "username": username, "password": password })),
    )
    .await;
    if a.status == 200 {
        Ok(a.json()["token"].as_str().unwrap().to_string())
    } else {
        Err(a.problem())
    }
}

async fn create_user(admin: &ApiClient, username: &str, role: Role) -> UserInfo {
    admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": username,
                "display_name": format!("Người dùng {username}"),
                "role": role,
                "password": PASSWORD,
            }),
        )
        .await
        .expect("create user")
}

async fn enrol_for(server: &TestServer, supervisor: &ApiClient, user: Uuid) -> ApiClient {
    let code: EnrolmentCode = supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: user,
                valid_minutes: Some(10),
            },
        )
        .await
        .expect("code");
    let mut device = client(server);
    device.enrol(&code.code, "Máy thử").await.expect("enrol");
    device
}

async fn devices_of(server: &TestServer, token: &str, user: Uuid) -> Vec<serde_json::Value> {
    let a = get(server, &format!("/api/v1/devices?user_id={user}"), token).await;
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));
    a.json().as_array().unwrap().clone()
}

async fn revocation(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let admin = people.admin.token().unwrap().to_string();
    let sup = people.supervisor.token().unwrap().to_string();
    let monitor = create_user(&people.admin, "giamsat-mttq", Role::Monitor).await;
    let monitor_token = login(&server, &monitor.username, PASSWORD).await.unwrap();
    let surveyor2 = create_user(&people.admin, "dtv2", Role::Surveyor).await;
    let sup2 = create_user(&people.admin, "giamsat2", Role::Supervisor).await;
    let admin_me: UserInfo = people.admin.get_json("/me").await.unwrap();

    // --- A device token works, shows in the list with its last sync, then is revoked. ----
    let device_a = enrol_device(&server, &people).await;
    let token_a = device_a.token().unwrap().to_string();
    me(&server, &token_a).await.expect("device A works");
    device_a.pull(0).await.expect("pull");
    let listed = devices_of(&server, &sup, people.surveyor.id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let a = &listed[0];
    let id_a: Uuid = serde_json::from_value(a["id"].clone()).unwrap();
    assert_eq!(a["user_id"], serde_json::json!(people.surveyor.id));
    assert_eq!(a["username"], "dtv1");
    assert_eq!(a["name"], "Máy tính bảng thử nghiệm");
    assert!(a["enrolled_at"].is_string(), "{a}");
    assert!(a["last_sync_at"].is_string(), "pull records the sync: {a}");
    assert!(a["revoked_at"].is_null(), "{a}");

    // Enrolling another device for the same user keeps the old one listed (and working).
    let device_b = enrol_device(&server, &people).await;
    let token_b = device_b.token().unwrap().to_string();
    let listed = devices_of(&server, &admin, people.surveyor.id).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[1]["last_sync_at"].is_null(), "{listed:?}");
    me(&server, &token_a).await.expect("old device still works");

    // Roles: surveyors and monitors may neither list nor revoke.
    for (who, token) in [("surveyor device", &token_b), ("monitor", &monitor_token)] {
        let a = get(&server, "/api/v1/devices", token).await;
        assert_eq!(a.problem(), "403.1", "{who} lists");
        let a = post(&server, &format!("/api/v1/devices/{id_a}/revoke"), token).await;
        assert_eq!(a.problem(), "403.1", "{who} revokes");
    }
    me(&server, &token_a)
        .await
        .expect("refused revocations changed nothing");
    let unknown = Uuid::now_v7();
    let a = post(&server, &format!("/api/v1/devices/{unknown}/revoke"), &sup).await;
    assert_eq!(a.problem(), "404.1");
    let a = get(&server, &format!("/api/v1/devices?user_id={unknown}"), &sup).await;
    assert_eq!(a.problem(), "404.1");

    // The supervisor revokes device A: its token answers 401.1 from the next call on.
    let a = post(&server, &format!("/api/v1/devices/{id_a}/revoke"), &sup).await;
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));
    let revoked_at = a.json()["revoked_at"].clone();
    assert!(revoked_at.is_string(), "{}", a.json());
    assert_eq!(me(&server, &token_a).await, Err("401.1".into()));
    let a = get(&server, "/api/v1/pull?cursor=0", &token_a).await;
    assert_eq!(a.problem(), "401.1");
    me(&server, &token_b)
        .await
        .expect("the other device still works");
    // Revoking again keeps the first time.
    let a = post(&server, &format!("/api/v1/devices/{id_a}/revoke"), &admin).await;
    assert_eq!(a.json()["revoked_at"], revoked_at);

    // --- Logout ends the calling token only. ---------------------------------------------
    let a = post(&server, "/api/v1/logout", &token_b).await;
    assert_eq!(a.status, 204);
    assert_eq!(me(&server, &token_b).await, Err("401.1".into()));
    let listed = devices_of(&server, &sup, people.surveyor.id).await;
    assert!(
        listed.iter().all(|d| d["revoked_at"].is_string()),
        "{listed:?}"
    );
    let s1 = login(&server, "giamsat1", fixture::SUPERVISOR_PASSWORD)
        .await
        .unwrap();
    assert_eq!(post(&server, "/api/v1/logout", &s1).await.status, 204);
    assert_eq!(me(&server, &s1).await, Err("401.1".into()));
    me(&server, &sup)
        .await
        .expect("the supervisor's other session still works");
    let a = post(&server, "/api/v1/logout", &s1).await;
    assert_eq!(
        a.problem(),
        "401.1",
        "a logged-out token cannot log out again"
    );

    // --- Disable: every session and device of the user stops at once. --------------------
    let session1 = login(&server, "dtv2", PASSWORD).await.unwrap();
    let session2 = login(&server, "dtv2", PASSWORD).await.unwrap();
    let device_c = enrol_for(&server, &people.supervisor, surveyor2.id).await;
    let token_c = device_c.token().unwrap().to_string();
    for t in [&session1, &session2, &token_c] {
        me(&server, t).await.expect("works before");
    }
    // Who may not disable whom.
    let disable = |id: Uuid| format!("/api/v1/users/{id}/disable");
    let enable = |id: Uuid| format!("/api/v1/users/{id}/enable");
    for (who, token) in [("surveyor", &session1), ("monitor", &monitor_token)] {
        let a = post(&server, &disable(surveyor2.id), token).await;
        assert_eq!(a.problem(), "403.1", "{who}");
    }
    for target in [admin_me.id, sup2.id] {
        let a = post(&server, &disable(target), &sup).await;
        assert_eq!(a.problem(), "403.1", "supervisor disables {target}");
        let a = post(&server, &enable(target), &sup).await;
        assert_eq!(a.problem(), "403.1", "supervisor enables {target}");
    }
    let a = post(&server, &disable(admin_me.id), &admin).await;
    assert_eq!(a.problem(), "409.1", "nobody disables themselves");
    let a = post(&server, &disable(Uuid::now_v7()), &admin).await;
    assert_eq!(a.problem(), "404.1");
    for t in [&session1, &session2, &token_c] {
        me(&server, t).await.expect("refused calls changed nothing");
    }

    let a = post(&server, &disable(surveyor2.id), &sup).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        serde_json::json!({ "user_id": surveyor2.id, "disabled": true, "changed": true })
    );
    for t in [&session1, &session2, &token_c] {
        assert_eq!(me(&server, t).await, Err("401.1".into()));
    }
    assert_eq!(login(&server, "dtv2", PASSWORD).await, Err("401.4".into()));
    assert_eq!(
        login(&server, "dtv2", "wrong-password").await,
        Err("401.3".into())
    );
    let a = post(&server, &disable(surveyor2.id), &admin).await;
    assert_eq!(
        a.json()["changed"],
        false,
        "disabling twice changes nothing"
    );
    // No new device for a disabled user.
    let a = send(
        &server.url,
        Req::new("POST", "/api/v1/enrolment-codes")
            .token(&sup)
            .json(serde_json::json!({ "user_id": surveyor2.id })),
    )
    .await;
    assert_eq!(a.problem(), "409.1");

    // Enable: sign-in works again, and the device that was not revoked works again; the
    // sessions ended by the disable stay ended.
    let a = post(&server, &enable(surveyor2.id), &sup).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["disabled"], false);
    let fresh = login(&server, "dtv2", PASSWORD).await.expect("login again");
    me(&server, &fresh).await.unwrap();
    me(&server, &token_c).await.expect("device back");
    assert_eq!(me(&server, &session1).await, Err("401.1".into()));

    // An admin may disable a supervisor (and enable it again).
    let sup2_token = login(&server, "giamsat2", PASSWORD).await.unwrap();
    let a = post(&server, &disable(sup2.id), &admin).await;
    assert_eq!(a.status, 200);
    assert_eq!(me(&server, &sup2_token).await, Err("401.1".into()));
    assert_eq!(
        login(&server, "giamsat2", PASSWORD).await,
        Err("401.4".into())
    );
    assert_eq!(post(&server, &enable(sup2.id), &admin).await.status, 200);
    login(&server, "giamsat2", PASSWORD).await.expect("enabled");

    // --- Audited, without any token. ------------------------------------------------------
    let audit = get(&server, "/api/v1/audit?limit=1000", &admin)
        .await
        .json();
    let entries = audit.as_array().unwrap();
    let count = |action: &str, entity: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["entity_id"] == entity)
            .count()
    };
    assert_eq!(count("device.revoked", &id_a.to_string()), 1, "{audit}");
    let id_b = listed
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .find(|id| *id != id_a.to_string())
        .unwrap();
    assert_eq!(count("device.revoked", &id_b), 1, "logout of device B");
    assert_eq!(count("user.disabled", &surveyor2.id.to_string()), 1);
    assert_eq!(count("user.enabled", &surveyor2.id.to_string()), 1);
    assert_eq!(count("user.disabled", &sup2.id.to_string()), 1);
    assert_eq!(count("login.disabled", &surveyor2.id.to_string()), 1);
    assert!(
        entries.iter().any(|e| e["action"] == "session.logout"),
        "{audit}"
    );
    let text = audit.to_string();
    for secret in [
        &token_a, &token_b, &token_c, &session1, &session2, &s1, &admin,
    ] {
        assert!(!text.contains(secret.as_str()), "the audit holds a token");
    }
    assert!(!text.contains(PASSWORD));
}
