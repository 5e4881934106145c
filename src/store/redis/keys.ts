/**
 * Every Redis key hanglink uses, named in one place so a rename or a switch to Cluster hash
 * tags touches only this file. Ids are placed unescaped: codes and note/campaign/external ids
 * come from alphabets checked at mint, and merchant ids must not contain ':' or a merchant's
 * link index could collide with another merchant's note index.
 */
export function redisKeys(prefix = 'hl:') {
  // The keys every click writes, with their constant heads joined once rather than per click.
  const clickHead = `${prefix}click:`;
  const visitHead = `${prefix}visit:`;
  // Counter keys are built in three places (here, the click script, the counters script): one shape,
  // each head extending the one before it.
  const countersOf = (merchantId: string) => `${prefix}stats:${merchantId}:`;
  const countersOfType = (merchantId: string, groupType: string) => `${countersOf(merchantId)}${groupType}:`;
  const counterGroupsOf = (merchantId: string) => `${prefix}statgroups:${merchantId}:`;
  return {
    merchant: (id: string) => `${prefix}merchant:${id}`,
    apiKey: (hash: string) => `${prefix}apikey:${hash}`,
    link: (code: string) => `${prefix}link:${code}`,
    externalId: (merchantId: string, externalId: string) => `${prefix}extid:${merchantId}:${externalId}`,
    merchantLinks: (merchantId: string) => `${prefix}links:${merchantId}`,
    noteLinks: (merchantId: string, noteId: string) => `${prefix}links:${merchantId}:note:${noteId}`,
    campaignLinks: (merchantId: string, campaignId: string) => `${prefix}links:${merchantId}:campaign:${campaignId}`,
    click: (clickId: string) => clickHead + clickId,
    clickStream: (merchantId: string) => `${prefix}clicks:${merchantId}`,
    linkClicks: (code: string) => `${prefix}linkclicks:${code}`,
    /** A visitor's state on a link: when its repeat window began (ms), the minute of its last counted tap, its taps in that minute. */
    visit: (code: string, visitorId: string) => `${visitHead}${code}:${visitorId}`,
    /** What a merchant's counter keys start with; the click script appends `type:id:bucket` (scripts.ts). */
    countersOf,
    /** What a group type's counter keys start with: the counters script appends `id:bucket` (scripts.ts). */
    countersOfType,
    counters: (merchantId: string, groupType: string, groupId: string, bucket: string) => `${countersOfType(merchantId, groupType)}${groupId}:${bucket}`,
    order: (merchantId: string, orderId: string) => `${prefix}order:${merchantId}:${orderId}`,
    /** How much of an order has been refunded, in minor units (the order itself never changes). */
    orderRefunded: (merchantId: string, orderId: string) => `${prefix}refunded:${merchantId}:${orderId}`,
    /** A campaign's spend per period ('d'+YYYYMMDD or 'total'). */
    spend: (merchantId: string, campaignId: string) => `${prefix}spend:${merchantId}:${campaignId}`,
    spendCampaigns: (merchantId: string) => `${prefix}spendcampaigns:${merchantId}`,
    rateWindow: (subject: string, window: number) => `${prefix}rate:${subject}:${window}`,
    /** What the hashes of counts not yet added to their counters start with: a hash per click kind, and 'clicks' (scripts.ts, FOLD_PENDING). */
    pendingCounts: () => `${prefix}pendingcounts:`,
    /** Where such counts waited before (a list, up to click script V9); applied by the next fold. */
    legacyPendingCounts: () => `${prefix}pendingcounts`,
    /** What a merchant's counter-group sets start with: the click script appends the type (scripts.ts). */
    counterGroupsOf,
    /** The group ids of a type that have counters: what a stats query enumerates. */
    counterGroups: (merchantId: string, groupType: string) => `${counterGroupsOf(merchantId)}${groupType}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
