//! What a desk operation implies once it is durable: the staff feed hears of every
//! operation, the lost-chat timer is woken when a chat is queued, the requester is signalled
//! queue positions, the candidates of manual routing and who joined or left, and the
//! conversation's machine is told of an attendant joining or leaving and of a close.

use super::{Attendance, AttendanceError, timer};
use crate::conversation::Event;
use crate::desk::{Applied, DeskOp, Notice, RoutingOutcome};
use crate::live::{AttendantStatus, FeedEvent, Specialist, StaffEvent};

impl Attendance {
    /// Tells the requester, the machine and the staff what `op` changed.
    pub(super) async fn carry_out(&self, op: &DeskOp, applied: &Applied) {
        self.chat
            .insight()
            .record(crate::insight::facts::desk(op, applied));
        self.bus.publish_staff(StaffEvent::Desk(op.clone()));
        if matches!(
            op,
            DeskOp::Enqueue { .. } | DeskOp::Reopen { .. } | DeskOp::Decline { .. }
        ) {
            self.wake.notify_one();
        }
        for update in &applied.updates {
            self.bus.publish(
                &update.chat_id,
                FeedEvent::QueuePosition {
                    position: update.position,
                    eta_ms: update.eta_ms,
                },
            );
        }
        if let Some(routing) = &applied.routing
            && let Some(conversation_id) = conversation_of(op)
        {
            self.signal_routing(conversation_id, routing).await;
        }
        for notice in &applied.notices {
            if let Err(error) = self.carry_out_notice(notice).await {
                tracing::warn!(%error, ?notice, "a desk notice could not be carried out");
            }
        }
    }

    async fn signal_routing(&self, conversation_id: &str, routing: &RoutingOutcome) {
        match routing {
            RoutingOutcome::Queued { position, eta_ms }
            | RoutingOutcome::NoOneAvailable { position, eta_ms } => self.bus.publish(
                conversation_id,
                FeedEvent::QueuePosition {
                    position: *position,
                    eta_ms: *eta_ms,
                },
            ),
            RoutingOutcome::Candidates {
                candidates,
                position,
                eta_ms,
            } => {
                let people = self
                    .book(|book| {
                        candidates
                            .iter()
                            .filter_map(|id| book.desk().person(id))
                            .map(|person| Specialist {
                                id: person.id.clone(),
                                name: person.name.clone(),
                            })
                            .collect::<Vec<_>>()
                    })
                    .await;
                self.bus.publish(
                    conversation_id,
                    FeedEvent::Specialists {
                        candidates: people,
                        position: *position,
                        eta_ms: *eta_ms,
                    },
                );
            }
            RoutingOutcome::Assigned { .. } => {}
        }
    }

    async fn person_name(&self, person: &str) -> String {
        self.book(|book| {
            book.desk()
                .person(person)
                .map(|person| person.name.clone())
                .unwrap_or_else(|| person.to_string())
        })
        .await
    }

    async fn carry_out_notice(&self, notice: &Notice) -> Result<(), AttendanceError> {
        match notice {
            Notice::AttendantJoined {
                conversation_id,
                person,
            } => {
                let name = self.person_name(person).await;
                self.bus.publish(
                    conversation_id,
                    FeedEvent::Attendant {
                        id: person.clone(),
                        name: name.clone(),
                        status: AttendantStatus::Online,
                    },
                );
                self.chat
                    .staff_event(conversation_id, Event::AttendantJoined { name })
                    .await?;
            }
            Notice::BackInQueue { conversation_id } => {
                self.chat
                    .staff_event(conversation_id, Event::AttendantLeft)
                    .await?;
                if let Ok(status) = self
                    .book(|book| book.desk().position(conversation_id))
                    .await
                {
                    self.bus.publish(
                        conversation_id,
                        FeedEvent::QueuePosition {
                            position: status.position,
                            eta_ms: status.eta_ms,
                        },
                    );
                }
            }
            Notice::ParticipantJoined {
                conversation_id,
                person,
            }
            | Notice::ParticipantLeft {
                conversation_id,
                person,
            } => {
                let name = self.person_name(person).await;
                let joined = matches!(notice, Notice::ParticipantJoined { .. });
                self.bus.publish(
                    conversation_id,
                    FeedEvent::Participant {
                        id: person.clone(),
                        name,
                        joined,
                    },
                );
            }
            Notice::Closed {
                conversation_id,
                closing_message,
            } => {
                if let Some(text) = closing_message
                    .as_deref()
                    .filter(|text| !text.trim().is_empty())
                {
                    let by = self
                        .book(|book| {
                            book.record(conversation_id)
                                .and_then(|r| r.closed_by.clone())
                        })
                        .await
                        .unwrap_or_default();
                    self.chat
                        .staff_message(conversation_id, &by, text, None, None)
                        .await?;
                }
                self.chat
                    .staff_event(conversation_id, Event::Closed)
                    .await?;
            }
            Notice::Lost { conversation_id } => {
                timer::finish_lost(self, conversation_id).await?;
            }
        }
        Ok(())
    }
}

fn conversation_of(op: &DeskOp) -> Option<&str> {
    match op {
        DeskOp::Enqueue {
            conversation_id, ..
        }
        | DeskOp::Reroute {
            conversation_id, ..
        }
        | DeskOp::Decline {
            conversation_id, ..
        }
        | DeskOp::Reopen {
            conversation_id, ..
        } => Some(conversation_id),
        _ => None,
    }
}
