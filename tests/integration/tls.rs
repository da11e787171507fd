//! TLS against the real server: the test makes its own CA and server
//! certificate, points the server at them (ssl = on, reload), checks every
//! sslmode, and puts the server's settings back — even if it fails.

use crate::util::{TestDb, admin_client, block_on, run, run_json, stderr};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::time::{Duration, Instant};

struct Pki {
    ca_pem: String,
    other_ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn make_pki() -> Pki {
    let ca = make_ca("pgadvisor test CA");
    let other = make_ca("someone else's CA");
    // Only the name "localhost": connecting to 127.0.0.1 is a name mismatch.
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        other_ca_pem: other.pem(),
        server_cert_pem: cert.pem(),
        server_key_pem: key.serialize_pem(),
    }
}

/// Has the server write `pem` to `path` itself (COPY … TO runs as the
/// server's OS user), so the key file gets the owner PostgreSQL insists on.
async fn server_write(client: &tokio_postgres::Client, path: &str, pem: &str) {
    let rows: Vec<String> = pem
        .lines()
        .map(|l| format!("'{}'", l.replace('\'', "''")))
        .collect();
    let sql = format!(
        "COPY (SELECT line FROM unnest(ARRAY[{}]) WITH ORDINALITY AS t(line, n) ORDER BY n) TO '{path}'",
        rows.join(",")
    );
    client
        .batch_execute(&sql)
        .await
        .expect("server writes the file");
}

async fn set_and_reload(client: &tokio_postgres::Client, settings: &[&str]) {
    for s in settings {
        client.batch_execute(s).await.expect("ALTER SYSTEM");
    }
    client
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
}

/// Puts the server's TLS settings back when the test ends, however it ends.
struct RestoreTls {
    files: Vec<String>,
}

impl Drop for RestoreTls {
    fn drop(&mut self) {
        let files = std::mem::take(&mut self.files);
        let _ = std::thread::spawn(|| {
            block_on(async {
                let c = admin_client().await;
                set_and_reload(
                    &c,
                    &[
                        "ALTER SYSTEM RESET ssl",
                        "ALTER SYSTEM RESET ssl_cert_file",
                        "ALTER SYSTEM RESET ssl_key_file",
                    ],
                )
                .await;
            });
            // Only now that the server no longer points at them.
            for f in files {
                let _ = std::fs::remove_file(f);
            }
        })
        .join();
    }
}

/// Retries `check` until the reloaded configuration is in effect.
fn wait_for(url: &str, want_success: bool) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = run(&["check", "-d", url, "--format", "json"]);
        if out.status.success() == want_success || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_sslmode_against_a_server_with_our_certificate() {
    let db = TestDb::new();
    let pki = make_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&other_ca, &pki.other_ca_pem).unwrap();
    let tag = format!("{}-{}", std::process::id(), db.name);
    let cert_path = format!("/tmp/pgadvisor-test-{tag}-server.crt");
    let key_path = format!("/tmp/pgadvisor-test-{tag}-server.key");

    let _restore = RestoreTls {
        files: vec![cert_path.clone(), key_path.clone()],
    };
    block_on(async {
        let c = admin_client().await;
        server_write(&c, &cert_path, &pki.server_cert_pem).await;
        server_write(&c, &key_path, &pki.server_key_pem).await;
        // COPY leaves files readable by all; PostgreSQL refuses such a key.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect(
            "chmod 600 on the server key (the TLS test runs as root or as the server's OS user)",
        );
        set_and_reload(
            &c,
            &[
                &format!("ALTER SYSTEM SET ssl_cert_file = '{cert_path}'"),
                &format!("ALTER SYSTEM SET ssl_key_file = '{key_path}'"),
                "ALTER SYSTEM SET ssl = on",
            ],
        )
        .await;
    });

    let info = pgadvisor::db::ConnInfo::parse(&db.url).unwrap();
    let port = info.port(0);
    let url = |host: &str, mode: &str, root: &std::path::Path| {
        format!(
            "postgres://postgres@{host}:{port}/{}?sslmode={mode}&sslrootcert={}",
            db.name,
            root.display()
        )
    };

    // verify-full: our CA and the certificate's name.
    let out = wait_for(&url("localhost", "verify-full", &ca), true);
    assert!(
        out.status.success(),
        "verify-full localhost: {}",
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["server"]["ssl"], true);
    assert!(
        doc["server"]["ssl_version"]
            .as_str()
            .unwrap()
            .starts_with("TLS")
    );

    // verify-full: a name the certificate does not carry.
    let out = run(&["check", "-d", &url("127.0.0.1", "verify-full", &ca)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));

    // verify-ca: the chain is checked, the name is not.
    let doc = run_json(&[
        "check",
        "-d",
        &url("127.0.0.1", "verify-ca", &ca),
        "--format",
        "json",
    ]);
    assert_eq!(doc["server"]["ssl"], true);

    // Someone else's CA fails in both verifying modes.
    for (host, mode) in [("localhost", "verify-full"), ("127.0.0.1", "verify-ca")] {
        let out = run(&["check", "-d", &url(host, mode, &other_ca)]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{mode} with the wrong CA must fail"
        );
        assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
    }

    // verify-full without any root certificate says how to give one.
    let no_root = format!(
        "postgres://postgres@localhost:{port}/{}?sslmode=verify-full",
        db.name
    );
    let out = crate::util::pgadvisor()
        .args(["check", "-d", &no_root])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sslrootcert"), "{}", stderr(&out));

    // require encrypts without verifying; disable does not encrypt.
    let require = format!(
        "postgres://postgres@127.0.0.1:{port}/{}?sslmode=require",
        db.name
    );
    let doc = run_json(&["check", "-d", &require, "--format", "json"]);
    assert_eq!(doc["server"]["ssl"], true);
    let disable = format!(
        "postgres://postgres@127.0.0.1:{port}/{}?sslmode=disable",
        db.name
    );
    let doc = run_json(&["check", "-d", &disable, "--format", "json"]);
    assert_eq!(doc["server"]["ssl"], false);

    // With ssl = off, require fails clearly and prefer falls back.
    block_on(async {
        let c = admin_client().await;
        set_and_reload(&c, &["ALTER SYSTEM SET ssl = off"]).await;
    });
    let out = wait_for(&require, false);
    assert_eq!(
        out.status.code(),
        Some(1),
        "require against a server without TLS"
    );
    let prefer = format!(
        "postgres://postgres@127.0.0.1:{port}/{}?sslmode=prefer",
        db.name
    );
    let doc = run_json(&["check", "-d", &prefer, "--format", "json"]);
    assert_eq!(doc["server"]["ssl"], false);
}
