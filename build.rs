//! Compiles every `.proto` under `proto/` once, with protox (pure Rust, no system `protoc`),
//! and writes the descriptor set next to the generated code for gRPC reflection.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = proto_files("proto".into())?;
    println!("cargo:rerun-if-changed=proto");

    let fds = protox::compile(&files, ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("ottr_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Upload chunks as `Bytes`: a file read from disk goes out, and arrives, without a copy.
        .bytes(".ottr.media.v1.UploadRequest.chunk")
        .bytes(".ottr.media.v1.AppendUploadRequest.chunk")
        .compile_fds(fds)?;
    Ok(())
}

/// Every `.proto` file below `dir`, sorted so the output does not depend on directory order.
fn proto_files(dir: PathBuf) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
