"""Container images for the Keycloak task: pinned references from config, or built from the repo on deploy.

A build runs once per `pulumi up` (BuildKit through the docker-build provider) and pushes the same digest to
an ECR repository in every region, so Osaka never pulls across regions and keeps working when Tokyo is gone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import child
from infra.config import INFRA_DIR, REPO_ROOT, ImageSource


@dataclass(frozen=True)
class RegistryArgs:
    repositories: tuple[str, ...]
    kms_key_arn: pulumi.Input[str]
    environment: str
    """In every repository name: the stacks share one account, and each must own its repositories."""


class Registry(pulumi.ComponentResource):
    """ECR repositories of one region (`bizid/<environment>/<repo>`), KMS encrypted, scanned on push, old
    images expired. Only dev's are force-deleted with their images: the throwaway stack stays destroyable."""

    urls: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]
    username: pulumi.Output[str]
    password: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:Registry", name, None, opts)
        self.urls = {}
        self.arns = {}
        for repo in args.repositories:
            repository = aws.ecr.Repository(
                f"{name}-{repo}",
                name=f"bizid/{args.environment}/{repo}",
                image_tag_mutability="MUTABLE",  # tags move per deploy; tasks always run a digest
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.kms_key_arn}],
                force_delete=args.environment == "dev",
                opts=child(self),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{repo}-lifecycle",
                repository=repository.name,
                policy=pulumi.Output.json_dumps(
                    {
                        "rules": [
                            {
                                "rulePriority": 1,
                                "description": "keep the last 30 images",
                                "selection": {
                                    "tagStatus": "any",
                                    "countType": "imageCountMoreThan",
                                    "countNumber": 30,
                                },
                                "action": {"type": "expire"},
                            }
                        ]
                    }
                ),
                opts=child(self),
            )
            self.urls[repo] = repository.repository_url
            self.arns[repo] = repository.arn
        token = aws.ecr.get_authorization_token_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.username = token.user_name
        self.password = pulumi.Output.secret(token.password)
        self.register_outputs({})


def needs_registry(sources: Mapping[str, ImageSource]) -> bool:
    return any(source.dockerfile is not None for source in sources.values())


def image_build_provider() -> pulumi.ProviderResource:
    """The explicit docker-build provider of the image builds (the stack files disable the default one)."""
    import pulumi_docker_build as docker_build  # type: ignore[import-not-found, unused-ignore]

    return docker_build.Provider("image-build")


def ecr_repository_arn(uri: str) -> str | None:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]` -> the repository's ARN; None for
    an image outside ECR (the execution role then needs no ECR pull permission for it)."""
    host, _, path = uri.partition("/")
    parts = host.split(".")
    if len(parts) < 6 or parts[1:3] != ["dkr", "ecr"] or not path:
        return None
    repo = path.split("@", 1)[0].rsplit(":", 1)[0] if "@" in path or ":" in path else path
    return f"arn:aws:ecr:{parts[3]}:{parts[0]}:repository/{repo}"


def resolve_image(
    name: str,
    repo: str,
    source: ImageSource,
    regions: Sequence[str],
    registries: Mapping[str, Registry],
    stack: str,
    opts: pulumi.ResourceOptions,
) -> dict[str, pulumi.Output[str]]:
    """Image reference per region: the configured uri everywhere, or the built digest in each region's ECR."""
    if source.uri is not None:
        return {region: pulumi.Output.from_input(source.uri) for region in regions}
    # Imported here so stacks that take images from config do not need the docker-build SDK at all.
    import pulumi_docker_build as docker_build  # type: ignore[import-not-found, unused-ignore]

    assert source.dockerfile is not None
    image = docker_build.Image(
        name,
        push=True,
        # Relative to the Pulumi project folder (infra/), where the engine runs the program: the same on every
        # machine, so state does not change with the checkout's location.
        context=docker_build.BuildContextArgs(
            location=os.path.relpath(REPO_ROOT / source.context, INFRA_DIR)
        ),
        dockerfile=docker_build.DockerfileArgs(
            location=os.path.relpath(REPO_ROOT / source.dockerfile, INFRA_DIR)
        ),
        build_on_preview=False,
        platforms=[docker_build.Platform.LINUX_AMD64],
        tags=[pulumi.Output.concat(registry.urls[repo], ":", stack) for registry in registries.values()],
        registries=[
            docker_build.RegistryArgs(
                address=registry.urls[repo].apply(lambda url: url.split("/")[0]),
                username=registry.username,
                password=registry.password,
            )
            for registry in registries.values()
        ],
        opts=opts,
    )
    return {
        region: pulumi.Output.concat(registries[region].urls[repo], "@", image.digest) for region in regions
    }
