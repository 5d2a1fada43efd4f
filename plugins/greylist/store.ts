import type { TripletRecord } from './triplet.js';

/** Where triplets are kept. `expiresAt` (epoch ms) is when the store may drop the record. */
export interface GreylistStore {
  get(key: string): Promise<TripletRecord | undefined>;
  put(key: string, record: TripletRecord, expiresAt: number): Promise<void>;
  close(): Promise<void>;
}
