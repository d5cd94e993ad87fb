//! Read marks: how far each side of a conversation has read it. The requester has one
//! position and the desk's side (whoever serves the chat) has one, each the `seq` of the last
//! message that side has seen, 0 before anything was read. A position only moves forward and
//! never past the conversation's last message. This module owns the record types and the
//! input checks both backends apply before any SQL; `sqlite::read_marks` and
//! `postgres::read_marks` own the SQL (table `conversation_reads`).

use super::{StoreError, check_id};

/// A side of a conversation, for its read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadSide {
    Requester,
    /// The desk's people serving the chat (an attendant, an analyst), who share a position.
    Attendant,
}

/// Both read positions of one conversation (0: nothing read yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadMarks {
    pub requester_seq: i64,
    pub attendant_seq: i64,
}

impl ReadMarks {
    /// The position of `side`.
    pub fn of(&self, side: ReadSide) -> i64 {
        match side {
            ReadSide::Requester => self.requester_seq,
            ReadSide::Attendant => self.attendant_seq,
        }
    }
}

/// What [`Store::mark_read`](super::Store::mark_read) did: the positions after it, and whether
/// the caller's side moved (a mark at or below where it stood changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMoved {
    pub marks: ReadMarks,
    pub moved: bool,
}

/// Checks a mark before any SQL: a valid conversation id and a `seq` that is not negative.
/// (Whether `seq` is past the last message is decided against the stored row.)
pub(crate) fn check_mark(conversation_id: &str, seq: i64) -> Result<(), StoreError> {
    check_id("conversation id", conversation_id)?;
    if seq < 0 {
        return Err(StoreError::InvalidInput(
            "a read position is never negative".to_string(),
        ));
    }
    Ok(())
}

/// The refusal of a mark past the conversation's last message.
pub(crate) fn beyond_last(seq: i64, last_seq: i64) -> StoreError {
    StoreError::InvalidInput(format!(
        "seq {seq} is past the conversation's last message ({last_seq})"
    ))
}

/// Decides a mark against what is stored: the conversation's last `seq` and the current
/// marks. `Ok(None)` when nothing moves; `Ok(Some(marks))` with the marks to write.
pub(crate) fn decide(
    current: ReadMarks,
    last_seq: i64,
    side: ReadSide,
    seq: i64,
) -> Result<Option<ReadMarks>, StoreError> {
    if seq > last_seq {
        return Err(beyond_last(seq, last_seq));
    }
    if seq <= current.of(side) {
        return Ok(None);
    }
    let mut next = current;
    match side {
        ReadSide::Requester => next.requester_seq = seq,
        ReadSide::Attendant => next.attendant_seq = seq,
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_moves_its_own_side_forward_only_and_never_past_the_last_message() {
        let current = ReadMarks {
            requester_seq: 3,
            attendant_seq: 1,
        };
        assert_eq!(decide(current, 5, ReadSide::Requester, 2).unwrap(), None);
        assert_eq!(decide(current, 5, ReadSide::Requester, 3).unwrap(), None);
        assert_eq!(
            decide(current, 5, ReadSide::Attendant, 5).unwrap(),
            Some(ReadMarks {
                requester_seq: 3,
                attendant_seq: 5
            })
        );
        assert!(matches!(
            decide(current, 5, ReadSide::Requester, 6),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(check_mark("c", -1).is_err());
        assert!(check_mark("", 1).is_err());
        assert!(check_mark("c", 0).is_ok());
    }
}
