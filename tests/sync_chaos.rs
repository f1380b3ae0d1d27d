//! Sync through a hostile network: a TCP proxy between the device and the real `sipas-server`
//! cuts connections after a random number of bytes, upstream (the request never arrives
//! whole) or downstream (the server has processed the upload but its reply is lost). The
//! device syncs 300 responses through it until its outbox is drained; afterwards the server
//! must hold exactly the device's records (same ids, revisions and hashes: none lost, none
//! duplicated). Several seeds, on SQLite and PostgreSQL; each seed is printed so a failure
//! can be replayed with `SIPAS_CHAOS_SEEDS=<seed>`.
use sipas_testkit::{fixture, server};

use fixture::{
    enrol_device, index_respondents, key, queue_responses, seed_people, seed_round, server_records,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use server::{Backend, TestServer};
use sipas_store::{ResponseStatus, Store};
use sipas_sync::{ApiClient, SyncConfig, Syncer, sync_status};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Responses on the device per scenario.
const RESPONSES: usize = 300;
/// Seeds run unless `SIPAS_CHAOS_SEEDS` (comma-separated) says otherwise.
const SEEDS: [u64; 3] = [20261124, 7, 424242];
/// Records per upload: 12 uploads per full push, so cuts land between and inside them.
const BATCH: usize = 25;
/// Upstream cut points are drawn below this many bytes: a connection (reused for several
/// requests) carries up to a few 25-record gzip batches of ~3 kB before it is cut.
const UP_MAX: usize = 15_000;
/// Downstream cut points are drawn below this: up to a few ~2 kB replies.
const DOWN_MAX: usize = 8_000;

/// Every connection is cut sooner or later; a few live long enough for a large pull reply.
const LONG_MAX: usize = 250_000;

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Close both sides after this many client → server bytes.
    CutUp(usize),
    /// Close both sides after this many server → client bytes.
    CutDown(usize),
}

impl Plan {
    fn draw(rng: &mut StdRng) -> Plan {
        match rng.random_range(0..20) {
            0..=8 => Plan::CutUp(rng.random_range(0..UP_MAX)),
            9..=17 => Plan::CutDown(rng.random_range(0..DOWN_MAX)),
            _ => Plan::CutDown(rng.random_range(DOWN_MAX..LONG_MAX)),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    connections: AtomicUsize,
    cut_up: AtomicUsize,
    cut_down: AtomicUsize,
}

/// A TCP proxy on 127.0.0.1 that cuts connections as its seeded [`Plan`]s say.
struct ChaosProxy {
    url: String,
    stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.task.abort(); // drops the JoinSet, which aborts every connection task
    }
}

impl ChaosProxy {
    async fn start(target: SocketAddr, seed: u64) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let task = tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut conns = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                st.connections.fetch_add(1, Ordering::Relaxed);
                conns.spawn(pipe(client, target, Plan::draw(&mut rng), st.clone()));
                while conns.try_join_next().is_some() {}
            }
        });
        ChaosProxy { url, stats, task }
    }
}

/// Copies bytes both ways until either side closes or the plan's cut point is reached; then
/// both connections are closed (whatever was in flight is lost).
async fn pipe(client: TcpStream, target: SocketAddr, plan: Plan, stats: Arc<Stats>) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let (mut up_left, mut down_left) = match plan {
        Plan::CutUp(n) => (n, usize::MAX),
        Plan::CutDown(n) => (usize::MAX, n),
    };
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = cr.read(&mut up) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if n >= up_left {
                    let _ = sw.write_all(&up[..up_left]).await;
                    stats.cut_up.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                up_left -= n;
                if sw.write_all(&up[..n]).await.is_err() { return; }
            }
            r = sr.read(&mut down) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if n >= down_left {
                    let _ = cw.write_all(&down[..down_left]).await;
                    stats.cut_down.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                down_left -= n;
                if cw.write_all(&down[..n]).await.is_err() { return; }
            }
        }
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("SIPAS_CHAOS_SEEDS") {
        Ok(s) => s
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .expect("SIPAS_CHAOS_SEEDS: comma-separated u64")
            })
            .collect(),
        Err(_) => SEEDS.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_on_sqlite() {
    chaos(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_on_postgres() {
    chaos(Backend::Postgres).await;
}

async fn chaos(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let target: SocketAddr = server.url.strip_prefix("http://").unwrap().parse().unwrap();
    let people = seed_people(&server).await;
    let (mut cut_up, mut cut_down, mut duplicates) = (0, 0, 0);
    for seed in seeds() {
        let t0 = Instant::now();
        eprintln!("chaos on {backend:?}: seed {seed}");
        let round = format!("CHAOS-{seed}");
        let assignments = seed_round(&people, &round, RESPONSES).await;
        let device = enrol_device(&server, &people).await;
        let mut store =
            Store::open(server.dir().join(format!("device-{seed}.db"))).expect("device store");
        // Assignments arrive over a good connection; then the network turns hostile.
        Syncer::new(device.clone(), SyncConfig::default())
            .pull(&mut store)
            .await
            .expect("pull");
        let responses = queue_responses(&mut store, &round, &assignments);

        let proxy = ChaosProxy::start(target, seed).await;
        let client = ApiClient::with_timeout(&proxy.url, Duration::from_secs(10))
            .unwrap()
            .with_token(device.token().unwrap());
        let syncer = Syncer::new(
            client,
            SyncConfig {
                max_batch_records: BATCH,
                max_attempts: 200,
                deadline: Duration::from_secs(60),
                backoff_base: Duration::from_millis(5),
                backoff_max: Duration::from_millis(100),
                ..SyncConfig::default()
            },
        );
        let report = syncer
            .run_until_drained(&mut store)
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: outbox not drained: {e}"));
        let (up, down, conns) = (
            proxy.stats.cut_up.load(Ordering::Relaxed),
            proxy.stats.cut_down.load(Ordering::Relaxed),
            proxy.stats.connections.load(Ordering::Relaxed),
        );
        drop(proxy);
        eprintln!(
            "  {backend:?} seed {seed}: drained in {} attempt(s), {} uploads answered, {} records resent \
             after a lost reply (duplicate), {conns} connections, {up} cut upstream, {down} \
             cut downstream, {:.1} s",
            report.attempts,
            report.push.batches,
            report.push.duplicates,
            t0.elapsed().as_secs_f64()
        );
        cut_up += up;
        cut_down += down;
        duplicates += report.push.duplicates;

        let status = sync_status(&store).unwrap();
        assert_eq!(
            (
                status.pending,
                status.in_flight,
                status.acked,
                status.rejected
            ),
            (0, 0, RESPONSES as u64, 0),
            "seed {seed}"
        );
        for r in &responses {
            let stored = store.get_response(r.id, r.revision).unwrap().unwrap();
            assert_eq!(stored.status, ResponseStatus::Synced, "seed {seed}");
        }
        let device_records: BTreeSet<_> = responses.iter().map(key).collect();
        let on_server = server_records(&server, &round);
        let lost: Vec<_> = device_records.difference(&on_server).collect();
        let extra: Vec<_> = on_server.difference(&device_records).collect();
        assert!(
            lost.is_empty() && extra.is_empty(),
            "seed {seed}: {} lost, {} unexpected on the server",
            lost.len(),
            extra.len()
        );
        assert_eq!(
            index_respondents(&people, &round).await,
            RESPONSES as u64,
            "seed {seed}"
        );
    }
    // The scenario must really have hit both kinds of failure.
    assert!(cut_up > 0, "no connection was cut upstream");
    assert!(cut_down > 0, "no connection was cut downstream");
    assert!(
        duplicates > 0,
        "no upload was processed by the server and then lost on the way back"
    );
}
