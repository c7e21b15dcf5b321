/** Seconds to a first token: the service's and each provider's, so the two read against each other. */
export const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
