//! The `sipas-server` binary: `--demo` seeding, the one "listening" line on stdout, a real
//! HTTP exchange over TCP, and a clean exit on SIGTERM.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Sends one HTTP/1.1 request and returns the whole raw answer.
fn http(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

/// The server process, killed if the test fails before it stops.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn demo_server_starts_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_sipas-server"))
            .args(["--database", db.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--demo"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("sipas-server listening on http://") {
            break rest.to_owned();
        }
        seen.push(line);
    };
    assert!(
        seen.iter().any(|l| l == "demo round: DEMO-2026"),
        "{seen:?}"
    );
    let code_line = seen
        .iter()
        .find(|l| l.starts_with("demo enrolment code for 'surveyor': "))
        .expect("an enrolment code");
    let code = code_line.split_whitespace().nth(5).unwrap();
    assert_eq!(code.len(), 10);
    let password_line = seen
        .iter()
        .find(|l| l.starts_with("demo user: supervisor (supervisor) password: "))
        .expect("a supervisor password");
    assert!(password_line.rsplit(' ').next().unwrap().len() >= 8);

    // No token: a 401.1 problem.
    let answer = http(
        &addr,
        &format!("GET /api/v1/me HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("\"code\":\"401.1\""), "{answer}");

    // The printed code enrols a device, once.
    let body = format!("{{\"code\":\"{code}\",\"device_name\":\"Máy thử\"}}");
    let request = format!(
        "POST /api/v1/enrol HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = http(&addr, &request);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"role\":\"surveyor\""), "{answer}");
    let answer = http(&addr, &request);
    assert!(answer.contains("\"code\":\"401.2\""), "{answer}");

    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}
