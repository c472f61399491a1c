//! ottr's protobuf contracts, generated once from `proto/` by the root `build.rs`.
//!
//! The module tree mirrors the protobuf packages (`ottr.auth.v1` is [`auth::v1`]).
//! Services and outside Rust clients depend on this crate alone for the wire types,
//! so everyone shares one set of generated messages, clients and servers.

pub use prost;
pub use tonic;

/// The encoded `FileDescriptorSet` of every package, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ottr_descriptor.bin"));

pub mod auth {
    //! Accounts, roles, sessions and signing keys.
    pub mod v1 {
        //! `ottr.auth.v1`.
        tonic::include_proto!("ottr.auth.v1");
    }
}

pub mod catalog {
    //! Titles, series, search, profiles, watchlists and playback progress.
    pub mod v1 {
        //! `ottr.catalog.v1`.
        tonic::include_proto!("ottr.catalog.v1");
    }
}

pub mod media {
    //! Assets, uploads, transcode jobs and their progress.
    pub mod v1 {
        //! `ottr.media.v1`.
        tonic::include_proto!("ottr.media.v1");
    }
}

pub mod playback {
    //! Signed playback for viewers' apps, answered by the edge.
    pub mod v1 {
        //! `ottr.playback.v1`.
        tonic::include_proto!("ottr.playback.v1");
    }
}
