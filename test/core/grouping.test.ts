import { describe, expect, it } from 'vitest';
import { EXCLUDED_GROUP, groupImages } from '../../functions/core/grouping.ts';
import { UnknownImageError } from '../../functions/core/rotation.ts';
import { amiId, blogImages, image, settings } from './fixtures.ts';

describe('groupImages by tags', () => {
  it('names groups by sorted tag values, as the blog shows', () => {
    // Prepare
    const images = blogImages();

    // Act
    const { groups, excluded } = groupImages(images, settings());

    // Assess
    expect(groups.map((g) => [g.name, g.images.length])).toEqual([
      ['back.dev', 5],
      ['back.prod', 5],
      ['dev.front', 5],
      ['front.prod', 5],
    ]);
    expect(excluded).toEqual([
      expect.objectContaining({ imageId: 'ami-2bf48158', group: EXCLUDED_GROUP, reason: 'NO_MAPPING' }),
    ]);
  });

  it('matches tag keys exactly, never as substrings', () => {
    // Prepare: the original counted `env` as part of "environment.role"
    const images = [
      image({ imageId: amiId(1), tags: { env: 'dev', role: 'front' } }),
      image({ imageId: amiId(2), tags: { environment: 'dev', role: 'front' } }),
    ];

    // Act
    const { groups, excluded } = groupImages(images, settings());

    // Assess
    expect(groups).toEqual([expect.objectContaining({ name: 'dev.front', images: [images[1]] })]);
    expect(excluded).toEqual([
      expect.objectContaining({ imageId: amiId(1), reason: 'NO_MAPPING', detail: 'missing tag environment' }),
    ]);
  });

  it('requires every mapped key, and ignores tags that are not mapped', () => {
    // Prepare
    const images = [
      image({ imageId: amiId(1), tags: { environment: 'dev' } }),
      image({ imageId: amiId(2), tags: { environment: 'dev', role: 'front', team: 'x' } }),
    ];

    // Act
    const { groups, excluded } = groupImages(images, settings());

    // Assess
    expect(groups.map((g) => g.name)).toEqual(['dev.front']);
    expect(excluded.map((k) => [k.imageId, k.reason])).toEqual([[amiId(1), 'NO_MAPPING']]);
  });

  it('keeps groups apart by ordered (key, value) and disambiguates colliding display names', () => {
    // Prepare: both would display as "a.b"
    const images = [
      image({ imageId: amiId(1), tags: { environment: 'a', role: 'b' } }),
      image({ imageId: amiId(2), tags: { environment: 'b', role: 'a' } }),
      image({ imageId: amiId(3), tags: { environment: 'a', role: 'b' } }),
    ];

    // Act
    const forward = groupImages(images, settings());
    const reversed = groupImages([...images].reverse(), settings());

    // Assess
    expect(forward.groups.map((g) => [g.name, g.images.map((i) => i.imageId).sort()])).toEqual([
      ['a.b [environment=a,role=b]', [amiId(1), amiId(3)]],
      ['a.b [environment=b,role=a]', [amiId(2)]],
    ]);
    expect(reversed.groups.map((g) => g.name)).toEqual(forward.groups.map((g) => g.name));
  });

  it('never lets a real group take the excluded group name', () => {
    // Prepare
    const images = [image({ imageId: amiId(1), tags: { role: EXCLUDED_GROUP } })];

    // Act
    const { groups } = groupImages(images, settings({ mappingValues: ['role'] }));

    // Assess
    expect(groups.map((g) => g.name)).toEqual([`${EXCLUDED_GROUP} [role=${EXCLUDED_GROUP}]`]);
  });

  it('excludes an AMI any of whose mapped tag values is excluded', () => {
    // Prepare
    const images = blogImages();

    // Act
    const { groups, excluded } = groupImages(images, settings({ excludedMappingValues: ['prod'] }));

    // Assess
    expect(groups.map((g) => g.name)).toEqual(['back.dev', 'dev.front']);
    const byReason = excluded.filter((k) => k.reason === 'EXCLUDED_MAPPING_VALUE');
    expect(byReason).toHaveLength(10);
    expect(byReason[0]).toMatchObject({
      group: EXCLUDED_GROUP,
      detail: 'environment=prod is an excluded mapping value',
    });
  });
});

describe('groupImages by name', () => {
  it('puts an AMI matching several values in the first one only', () => {
    // Prepare
    const images = [
      image({ imageId: amiId(1), name: 'web-front-1' }),
      image({ imageId: amiId(2), name: 'front-2' }),
      image({ imageId: amiId(3), name: 'other' }),
    ];

    // Act
    const { groups, excluded } = groupImages(
      images,
      settings({ mappingKey: 'name', mappingValues: ['web', 'front'] }),
    );

    // Assess
    expect(groups.map((g) => [g.name, g.images.map((i) => i.imageId)])).toEqual([
      ['front', [amiId(2)]],
      ['web', [amiId(1)]],
    ]);
    expect(excluded.map((k) => [k.imageId, k.reason])).toEqual([[amiId(3), 'NO_MAPPING']]);
  });

  it('excludes an AMI whose name contains an excluded value', () => {
    // Prepare
    const images = [
      image({ imageId: amiId(1), name: 'front-prod-1' }),
      image({ imageId: amiId(2), name: 'front-dev-1' }),
    ];

    // Act
    const { groups, excluded } = groupImages(
      images,
      settings({ mappingKey: 'name', mappingValues: ['front'], excludedMappingValues: ['prod'] }),
    );

    // Assess
    expect(groups.map((g) => [g.name, g.images.map((i) => i.imageId)])).toEqual([['front', [amiId(2)]]]);
    expect(excluded).toEqual([
      expect.objectContaining({ imageId: amiId(1), group: EXCLUDED_GROUP, reason: 'EXCLUDED_MAPPING_VALUE' }),
    ]);
  });
});

describe('groupImages with fromIds', () => {
  it('puts every image in the from-ids group, ignoring the mapping', () => {
    // Prepare
    const images = blogImages();

    // Act
    const { groups, excluded } = groupImages(images, settings({ fromIds: [amiId(1)] }));

    // Assess
    expect(groups.map((g) => [g.name, g.images.length])).toEqual([['from-ids', 21]]);
    expect(excluded).toEqual([]);
  });

  it('throws UnknownImageError for an id the inventory does not hold', () => {
    // Prepare
    const images = blogImages();

    // Act
    const act = () => groupImages(images, settings({ fromIds: [amiId(1), 'ami-0badbadbad'] }));

    // Assess
    expect(act).toThrow(UnknownImageError);
    expect(act).toThrow(/ami-0badbadbad/);
  });
});
