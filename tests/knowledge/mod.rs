//! The knowledge search as requesters and knowledge managers meet it: language analyzers,
//! titles and typos, visibility, and reindexing.

mod analyzers;
mod reindex;
mod titles;
mod upsert;
mod visibility;
