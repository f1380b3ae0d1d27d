//! PIN recovery tools for the province (issue 13), run offline on the supervisor's machine:
//!
//! * `sipas-server recovery-keygen --out DIR` — writes `DIR/recovery.key` (the X25519 private
//!   key, standard base64, owner-only; keep it offline) and `DIR/recovery.pub` (the public
//!   key, to give the server with `--recovery-public-key DIR/recovery.pub`, which sends it to
//!   every device at enrolment);
//! * `sipas-server recovery-code --key recovery.key --request <request>` — turns a device's
//!   recovery request (shown by the app under "Quên mã PIN") into the recovery code the
//!   surveyor enters with a new PIN;
//! * `sipas-server recover-device --key recovery.key --store device.db [--enrolment
//!   device.enrolment.json] --out FILE.sipas` — reads a locked device store (with its
//!   `.salt`, `.recovery` and enrolment files next to it) and writes its unsynced records as
//!   a normal signed hand-over file, imported on the dashboard (`POST /handover`).
//!
//! Nothing here prints a key, a code only when asked for it.
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sipas_store::recovery::{
    generate_recovery_keypair, parse_public_key, parse_secret_key, recovery_code_from_request,
};
use sipas_sync::handover::{DeviceIdentity, recover_handover_files, write_handover_file};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Reads and checks a recovery public key file (standard base64, 32 bytes).
pub fn read_public_key_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the recovery public key {}", path.display()))?;
    let key =
        parse_public_key(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(STANDARD.encode(key))
}

fn read_secret_key_file(path: &Path) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading the recovery private key {}", path.display()))?,
    );
    parse_secret_key(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn write_owner_only(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        format!(
            "creating {} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// `recovery-keygen --out DIR`: writes `recovery.key` and `recovery.pub`; returns their paths.
pub fn keygen(out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let pair = generate_recovery_keypair();
    let secret = out.join("recovery.key");
    let public = out.join("recovery.pub");
    let secret_b64 = Zeroizing::new(format!("{}\n", STANDARD.encode(*pair.secret)));
    write_owner_only(&secret, secret_b64.as_bytes())?;
    write_owner_only(
        &public,
        format!("{}\n", STANDARD.encode(pair.public)).as_bytes(),
    )?;
    Ok((secret, public))
}

/// `recovery-code --key KEY --request REQ`: the recovery code.
pub fn code(key: &Path, request: &str) -> anyhow::Result<Zeroizing<String>> {
    let secret = read_secret_key_file(key)?;
    recovery_code_from_request(&secret, request).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The enrolment file next to a store `device.db`: `device.enrolment.json` (as the app keeps
/// it).
pub fn default_enrolment_path(store: &Path) -> PathBuf {
    store.with_extension("enrolment.json")
}

/// `recover-device`: writes the device's unsynced records to `out` (more files `out-2`, …
/// when they exceed one file's limits). Returns (files written, records).
pub fn recover_device(
    key: &Path,
    store: &Path,
    enrolment: &Path,
    out: &Path,
) -> anyhow::Result<(Vec<PathBuf>, usize)> {
    let secret = read_secret_key_file(key)?;
    let text = Zeroizing::new(
        std::fs::read_to_string(enrolment)
            .with_context(|| format!("reading the enrolment file {}", enrolment.display()))?,
    );
    let json: serde_json::Value =
        serde_json::from_str(&text).context("the enrolment file is not JSON")?;
    let device_id = json["device_id"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .context("the enrolment file has no device_id")?;
    let Some(signing_key) = json["signing_key"].as_str() else {
        bail!("the enrolment file has no signing key: this device cannot sign hand-over files");
    };
    let identity = DeviceIdentity::load(device_id, signing_key)
        .map_err(|e| anyhow::anyhow!("the device's signing key: {e}"))?;
    let files = recover_handover_files(store, &secret, &identity, chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut written = Vec::new();
    let mut records = 0;
    for (i, f) in files.iter().enumerate() {
        let path = if i == 0 {
            out.to_path_buf()
        } else {
            let mut s = out.as_os_str().to_owned();
            s.push(format!("-{}", i + 1));
            PathBuf::from(s)
        };
        write_handover_file(&path, &f.bytes)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        records += f.records;
        written.push(path);
    }
    Ok((written, records))
}

/// Runs a recovery tool when the command line names one (`argv[1]`); `None` otherwise.
pub fn run_tool(args: &[String]) -> Option<anyhow::Result<()>> {
    let tool = args.get(1)?.as_str();
    if !matches!(tool, "recovery-keygen" | "recovery-code" | "recover-device") {
        return None;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let need =
        |name: &str| opt(name).with_context(|| format!("sipas-server {tool}: missing {name}"));
    Some((|| {
        match tool {
            "recovery-keygen" => {
                let (secret, public) = keygen(Path::new(need("--out")?))?;
                println!("private key (keep offline): {}", secret.display());
                println!("public key (--recovery-public-key): {}", public.display());
            }
            "recovery-code" => {
                let code = code(Path::new(need("--key")?), need("--request")?)?;
                println!("{}", code.as_str());
            }
            _ => {
                let store = Path::new(need("--store")?);
                let enrolment = opt("--enrolment")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| default_enrolment_path(store));
                let (files, records) = recover_device(
                    Path::new(need("--key")?),
                    store,
                    &enrolment,
                    Path::new(need("--out")?),
                )?;
                for f in &files {
                    println!("hand-over file: {}", f.display());
                }
                println!("records: {records}");
            }
        }
        Ok(())
    })())
}
