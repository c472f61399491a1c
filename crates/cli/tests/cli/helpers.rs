//! A scratch database per test and the `ottr` binary pointed at it, every port 0.

use std::process::{Child, Command};

/// A database for this test alone, dropped when the test ends.
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
}

impl ScratchDatabase {
    pub fn new() -> Self {
        let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL is set by .cargo/config.toml");
        let name = format!("ottr_cli_{}", uuid::Uuid::new_v4().simple());
        Self { admin_url, name }
    }

    pub fn url(&self) -> String {
        let base = self.admin_url.rsplit_once('/').map_or(self.admin_url.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        for folder in ["objects", "work"] {
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{}-{folder}", self.name)));
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside the test's runtime, so it gets one of its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut conn)
                        .await;
                }
            })
        })
        .join();
    }
}

pub fn ottr(db: &ScratchDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ottr"));
    command
        .env("OTTR__DATABASE__URL", db.url())
        .env("OTTR__AUTH__LISTEN__PORT", "0")
        .env("OTTR__CATALOG__LISTEN__PORT", "0")
        .env("OTTR__MEDIA__LISTEN__PORT", "0")
        .env("OTTR__EDGE__LISTEN__PORT", "0")
        .env("OTTR__MEDIA__STORAGE__LOCAL_ROOT", std::env::temp_dir().join(format!("{}-objects", db.name)))
        .env("OTTR__MEDIA__WORK_DIR", std::env::temp_dir().join(format!("{}-work", db.name)))
        .env("OTTR__REDIS__KEY_PREFIX", format!("{}:", db.name))
        .env("RUST_LOG", "warn");
    command
}

/// Kills `ottr up` however the test ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
