//! The webhook dispatcher's SQS hosts: the AWS Lambda and the long-polling worker.
//!
//! Both run the same [`handler`] over a batch of SQS messages, each saying "look at delivery X
//! now"; the [`delivery`] crate's dispatcher does the rest. A delivery whose next attempt is
//! later goes back to the queue with that delay as its visibility timeout ([`visibility`]).
//!
//! - [`handler`]: the AWS Lambda handler for an SQS event source mapping (`bootstrap`);
//! - [`worker`]: a long-polling SQS consumer calling that same handler
//!   (`webhook-dispatch-worker`);
//! - [`metrics`]: where both push the dispatcher's metrics (DogStatsD).

pub mod handler;
pub mod metrics;
pub mod visibility;
pub mod worker;
