// RSS 2.0 feed of the sessions, newest first.
import rss from '@astrojs/rss';
import type { APIContext } from 'astro';
import { siteData } from '../lib/site-data.ts';
import { sessionFeedItems } from '../lib/feeds.ts';

export async function GET(context: APIContext) {
  const { sessions } = await siteData();
  return rss({
    title: 'Scalability & Performance WG: sessions',
    description: 'New and updated session notes of the Internet Computer Scalability & Performance working group.',
    site: context.site!,
    items: sessionFeedItems(sessions),
    customData: '<language>en</language>',
  });
}
