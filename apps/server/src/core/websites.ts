import type { WebsiteSettings } from "@hugo/protocol";
import { AppError } from "./errors.ts";
import { newUuid } from "./ids.ts";
import type { Stores, Website } from "./ports.ts";

export class WebsiteService {
  readonly #stores: Stores;
  constructor(stores: Stores) {
    this.#stores = stores;
  }

  async create(input: { name: string; domain?: string }): Promise<WebsiteSettings> {
    const website = { id: newUuid(), name: input.name, domain: input.domain ?? "", created_at: Date.now() };
    await this.#stores.websites.create(website);
    return { ...website, widget: { allowed_origins: [] } };
  }

  async get(id: string): Promise<WebsiteSettings> {
    const website = await this.#stores.websites.find(id);
    if (!website) throw new AppError("website_not_found", `No website ${id}.`);
    return this.#settings(website);
  }

  /** `widget.allowed_origins` arrives normalised (WebsiteUpdate's WidgetOrigin). */
  async update(
    id: string,
    patch: {
      name?: string | undefined;
      domain?: string | undefined;
      widget?: { allowed_origins: string[] } | undefined;
    },
  ): Promise<WebsiteSettings> {
    const { widget, ...fields } = patch;
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const website = await this.#stores.transaction(async (tx) => {
      if (widget && !(await tx.websites.setWidgetOrigins(id, widget.allowed_origins))) return undefined;
      return tx.websites.update(id, clean);
    });
    if (!website) throw new AppError("website_not_found", `No website ${id}.`);
    return this.#settings(website);
  }

  async #settings(website: Website): Promise<WebsiteSettings> {
    const origins = (await this.#stores.websites.findWidgetOrigins(website.id)) ?? [];
    return { ...website, widget: { allowed_origins: origins } };
  }
}
