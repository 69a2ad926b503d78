/** Where a reject came from (the `file` of the rejects table): a file's path, or a live source. */

/** The `file` of a live source's rejects (webhooks, pulls). */
export const rejectOrigin = (sourceId: string) => `source:${sourceId}`;

/** Whether a reject came from a live source rather than a file. */
export const isLiveOrigin = (file: string): boolean => file.startsWith('source:');
