import type { WebsiteSettings } from "@hugo/protocol";
import { AppError } from "./errors.ts";
import { newUuid } from "./ids.ts";
import type { Stores } from "./ports.ts";

export class WebsiteService {
  readonly #stores: Stores;
  constructor(stores: Stores) {
    this.#stores = stores;
  }

  async create(input: { name: string; domain?: string }): Promise<WebsiteSettings> {
    const website = { id: newUuid(), name: input.name, domain: input.domain ?? "", created_at: Date.now() };
    await this.#stores.websites.create(website);
    return website;
  }

  async get(id: string): Promise<WebsiteSettings> {
    const website = await this.#stores.websites.find(id);
    if (!website) throw new AppError("website_not_found", `No website ${id}.`);
    return website;
  }

  async update(
    id: string,
    patch: { name?: string | undefined; domain?: string | undefined },
  ): Promise<WebsiteSettings> {
    const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const website = await this.#stores.websites.update(id, clean);
    if (!website) throw new AppError("website_not_found", `No website ${id}.`);
    return website;
  }
}
