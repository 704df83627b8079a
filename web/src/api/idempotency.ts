/**
 * `Idempotency-Key`s. The API answers a key it has already seen with the same request by
 * replaying the first answer (nothing is created twice), and refuses the key with a different
 * request (422 "was already used with a different request").
 */
import { useState } from 'react';

/** A fresh `Idempotency-Key`: for an explicit one-click action, one per click. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** A request body sent with the `Idempotency-Key` of its submission. */
export interface Keyed<T> {
  body: T;
  idempotencyKey: string;
}

/**
 * The `Idempotency-Key` of one form's submissions (placing an order, adding an endpoint).
 *
 * The key stays while the same body is sent again: a retry after a timeout or a network error,
 * or a double submission, is then answered with the first result instead of creating a
 * duplicate. A new key is drawn whenever the body differs from the one last sent with the
 * current key (the user changed the form), and after a success (the next submission means a
 * new thing, even with the same values).
 */
export class SubmissionKey {
  readonly #generate: () => string;
  #key: string | null = null;
  #body: string | null = null;

  constructor(generate: () => string = idempotencyKey) {
    this.#generate = generate;
  }

  /** The key to send `body` with. `body` is compared as the JSON that goes on the wire. */
  for(body: unknown): string {
    const sent = JSON.stringify(body);
    if (this.#key === null || sent !== this.#body) {
      this.#key = this.#generate();
      this.#body = sent;
    }
    return this.#key;
  }

  /** The submission succeeded: whatever is sent next gets a fresh key. */
  succeeded(): void {
    this.#key = null;
    this.#body = null;
  }
}

/** One {@link SubmissionKey} for the life of a form. */
export function useSubmissionKey(): SubmissionKey {
  const [key] = useState(() => new SubmissionKey());
  return key;
}
