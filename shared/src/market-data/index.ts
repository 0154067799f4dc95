/** Market data the user can trust: resumable, de-duplicated downloads, coverage, and gap reports. */
export * from './coverage.ts';
export * from './download.ts';
export * from './gaps.ts';
export * from './time.ts';
