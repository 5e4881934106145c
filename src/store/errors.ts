/**
 * A click batch was sent behind another (`writeClicks(clicks, after)`) and that one has not landed:
 * nothing of this batch was written, so it can be sent again once the one ahead of it is.
 */
export class ClicksOutOfOrder extends Error {
  constructor(after: string | undefined) {
    super(`click batch not written: the click before it (${after}) is not written yet`);
    this.name = 'ClicksOutOfOrder';
  }
}
