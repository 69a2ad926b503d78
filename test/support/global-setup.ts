/** Placeholder replaced below by the PostgreSQL harness. */
export default function setup(): void {}
