/**
 * The one quota rule, asked once per recipient after DATA (and after the duplicate check, so a
 * retry of a message already stored is never refused by it): a copy fits when the mailbox's
 * usage plus the copy's size stays within the quota. A quota of 0 is unlimited.
 */
export function exceedsQuota(quotaBytes: number, usageBytes: number, messageBytes: number): boolean {
  return quotaBytes > 0 && usageBytes + messageBytes > quotaBytes;
}
