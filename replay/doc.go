// Package replay writes a staged migration into an Intercom workspace and can
// take it back out again.
//
// # Authentication
//
// Every request carries a bearer token. TokenFromEnv reads it from
// D2I_INTERCOM_TOKEN or from the file named by D2I_INTERCOM_TOKEN_FILE. The
// token is held in memory only: it never appears in a log line, an error or
// the write log. The base URL is configurable so that EU and AU workspaces
// (api.eu.intercom.io, api.au.intercom.io) and test servers work alike.
//
// # Versions
//
// Requests name Intercom-Version 2.14. Two calls name 2.16 because 2.14 cannot
// express them: creating conversation data attributes (/conversations/attributes)
// and admin replies that carry skip_notifications (the field exists from 2.15).
//
// # Rate limits
//
// One Limiter per workspace is shared by every worker. It starts from a
// per-minute figure (10,000 by default, the documented app limit) and is then
// corrected from X-RateLimit-Limit, -Remaining and -Reset on each response. A
// 429 waits until X-RateLimit-Reset; 5xx answers back off exponentially. The
// retry policy lives in RetryPolicy and nowhere else.
//
// # Errors
//
// Failed calls return typed errors that callers test with errors.As:
// *RateLimited, *Conflict (with the id of the existing contact parsed from the
// 409 message), *NotFound and, for everything else, *APIError. Conflict and
// NotFound unwrap to their *APIError. A request that may have reached the
// server without an answer (a transport error or a 5xx on a create) is an
// *UncertainError: the caller must look the object up before sending again.
// Error bodies are read through a size limit.
//
// # Idempotency
//
// Intercom has no idempotency keys. Run therefore writes an intent record to
// the write log before every mutating request and an outcome after it. A later
// run skips what succeeded and resolves an intent without an outcome by looking
// the object up: companies by company_id, users by the 409 on external_id,
// parts by reading the conversation, notes on contacts by reading the contact's
// notes, leads and conversations by search once the search index lag has passed. Rollback reads the same log backwards.
//
// # Dry run
//
// Every mutating request of Run and Rollback passes through one gate, the
// function that also writes the log. A dry run writes the same records marked
// dry_run and sends nothing; reads (lookups, before-images) still happen.
package replay
